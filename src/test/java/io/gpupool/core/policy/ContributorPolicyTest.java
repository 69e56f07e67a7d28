package io.gpupool.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.testing.PoolFixtures;

/**
 * What a contributor's agent refuses to run on its cluster (#14 item 8), whatever the pool sends: each case starts
 * from what the pool renders (which complies) and changes one thing.
 */
class ContributorPolicyTest {

    private static final ContributorPolicy DEFAULT = new ContributorPolicy(List.of("ghcr.io/gpupool/*"), false, false);

    private static Deployment rendered() {
        ModelDeployment md = PoolFixtures.modelDeployment("team-a", "llama", 1, 1);
        return ServingRenderer.deployment(md, new Placement("lab", "n1", "l4", 1), ServingSettings.DEFAULT);
    }

    private static List<String> violations(ContributorPolicy policy, Consumer<PodSpec> change) {
        Deployment d = rendered();
        change.accept(d.getSpec().getTemplate().getSpec());
        return policy.violations(d);
    }

    @Test
    void whatThePoolRendersComplies() {
        assertThat(DEFAULT.violations(rendered())).isEmpty();
    }

    @Test
    void workMayNotPickItsNodeNorRunOnTheControlPlane() {
        assertThat(violations(DEFAULT, pod -> pod.setNodeName("control-plane-1"))).singleElement().asString()
                .contains("names node control-plane-1");
        assertThat(violations(DEFAULT, pod -> pod.getTolerations().add(new TolerationBuilder()
                .withKey("node-role.kubernetes.io/control-plane").withOperator("Exists").withEffect("NoSchedule")
                .build()))).singleElement().asString().contains("tolerates node-role.kubernetes.io/control-plane");
        assertThat(violations(DEFAULT, pod -> pod.getTolerations().add(new TolerationBuilder().withOperator("Exists")
                .build()))).singleElement().asString().contains("tolerates every taint");
    }

    @Test
    void priorityClassesOnlyThoseTheContributorAllows() {
        assertThat(violations(DEFAULT, pod -> pod.setPriorityClassName("system-node-critical"))).singleElement()
                .asString().contains("PriorityClass system-node-critical");
        var allowing = new ContributorPolicy(List.of("ghcr.io/gpupool/*"), false, false, false, false,
                List.of("pool-work"));
        assertThat(violations(allowing, pod -> pod.setPriorityClassName("pool-work"))).isEmpty();
        assertThat(violations(allowing, pod -> pod.setPriorityClassName("system-cluster-critical"))).hasSize(1);
    }

    @Test
    void noHostNamespacesNoHostPortsNoServiceAccountToken() {
        assertThat(violations(DEFAULT, pod -> pod.setHostPID(true))).singleElement().asString()
                .contains("host's network, PID or IPC namespace");
        assertThat(violations(DEFAULT, pod -> pod.setHostIPC(true))).hasSize(1);
        assertThat(violations(DEFAULT, pod -> pod.getContainers().get(0).getPorts().add(new ContainerPortBuilder()
                .withContainerPort(8000).withHostPort(80).build()))).singleElement().asString()
                .contains("opens a port on the host");
        assertThat(violations(DEFAULT, pod -> pod.setAutomountServiceAccountToken(null))).singleElement().asString()
                .contains("automountServiceAccountToken must be false");
        assertThat(violations(DEFAULT, pod -> pod.setAutomountServiceAccountToken(true))).hasSize(1);
        assertThat(violations(DEFAULT, pod -> pod.setServiceAccountName("gpupool-agent"))).singleElement().asString()
                .contains("runs as ServiceAccount gpupool-agent");
    }

    @Test
    void everyContainerIsLimitedInMemoryAndEphemeralStorage() {
        assertThat(violations(DEFAULT, pod -> pod.getContainers().get(0).getResources().getLimits().remove("memory")))
                .singleElement().asString().contains("has no memory limit");
        assertThat(violations(DEFAULT, pod -> pod.getContainers().get(0).getResources().setLimits(Map.of())))
                .hasSize(2).anySatisfy(v -> assertThat(v).contains("has no ephemeral-storage limit"));
    }

    @Test
    void remoteCodePickledWeightsAndCodeLoadersOnlyWithTheContributorsConsent() {
        Consumer<PodSpec> remoteCode = pod -> pod.getContainers().get(0).getArgs().add("--trust_remote_code");
        assertThat(violations(DEFAULT, remoteCode)).singleElement().asString().contains("policy.allowRemoteCode");
        var consenting = new ContributorPolicy(List.of("ghcr.io/gpupool/*"), false, false, true, true, List.of());
        assertThat(violations(consenting, remoteCode)).isEmpty();

        Consumer<PodSpec> pickles = pod -> pod.getContainers().get(0).getEnv()
                .add(new EnvVar("GPUPOOL_ALLOW_UNSAFE_WEIGHTS", "true", null));
        assertThat(violations(DEFAULT, pickles)).singleElement().asString().contains("policy.allowUnsafeWeights");
        assertThat(violations(consenting, pickles)).isEmpty();

        // Code loaders are refused even where remote code is allowed: they are not the model's code.
        assertThat(violations(consenting, pod -> pod.getContainers().get(0).getEnv()
                .add(new EnvVar("LD_PRELOAD", "/tmp/x.so", null)))).singleElement().asString()
                .contains("sets LD_PRELOAD, which loads code");
    }

    @Test
    void servicesStayInsideTheContributorsCluster() {
        var service = new ServiceBuilder().withNewMetadata().withName("s").endMetadata().withNewSpec()
                .withType("ClusterIP").withExternalIPs("203.0.113.7").endSpec().build();
        assertThat(DEFAULT.violations(service)).singleElement().asString().contains("claims external IPs [203.0.113.7]");
        service.getSpec().setExternalIPs(List.of());
        assertThat(DEFAULT.violations(service)).isEmpty();
        service.getSpec().setType("NodePort");
        assertThat(DEFAULT.violations(service)).singleElement().asString().contains("only ClusterIP");
    }
}
