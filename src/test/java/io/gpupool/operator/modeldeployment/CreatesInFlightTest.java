package io.gpupool.operator.modeldeployment;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;

/**
 * The add event of a serving Deployment the operator is creating wakes no second reconcile; any other add does, and
 * nothing is left behind once creates settle.
 */
class CreatesInFlightTest {

    private static Deployment deployment(String name, String ownerUid) {
        return new DeploymentBuilder().withNewMetadata().withNamespace("lab").withName(name).addNewOwnerReference()
                .withUid(ownerUid).withKind("ModelDeployment").withName("llama").endOwnerReference()
                .endMetadata().build();
    }

    @Test
    void theAddEventOfTheOperatorsOwnCreateIsFilteredOnce() {
        CreatesInFlight filter = new CreatesInFlight();
        Deployment mine = deployment("llama-n1", "uid-1");
        int before = CreatesInFlight.inFlight();

        CreatesInFlight.creating("uid-1", mine);
        assertThat(filter.accept(deployment("llama-n1", "uid-2"))).as("same name, another owner").isTrue();
        assertThat(filter.accept(deployment("llama-n2", "uid-1"))).as("another Deployment of the owner").isTrue();
        assertThat(filter.accept(mine)).as("the event of the create in flight").isFalse();
        assertThat(filter.accept(mine)).as("made again later: its event wakes the owner").isTrue();
        CreatesInFlight.settled("uid-1", mine);
        assertThat(CreatesInFlight.inFlight()).isEqualTo(before);
    }

    @Test
    void aCreateWhoseEventComesAfterItsResponseLeavesNothingBehind() {
        CreatesInFlight filter = new CreatesInFlight();
        Deployment mine = deployment("qwen-n1", "uid-3");
        int before = CreatesInFlight.inFlight();

        CreatesInFlight.creating("uid-3", mine);
        CreatesInFlight.settled("uid-3", mine); // the response came first: JOSDK recognizes the event by its version
        assertThat(CreatesInFlight.inFlight()).isEqualTo(before);
        assertThat(filter.accept(mine)).isTrue();
    }

    @Test
    void aDeploymentWithoutAnOwnerIsNeverFiltered() {
        Deployment orphan = new DeploymentBuilder().withNewMetadata().withNamespace("lab").withName("x").endMetadata()
                .build();
        assertThat(new CreatesInFlight().accept(orphan)).isTrue();
    }
}
