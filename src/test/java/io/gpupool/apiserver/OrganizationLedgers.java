package io.gpupool.apiserver;

import static org.awaitility.Awaitility.await;

import java.time.Instant;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.gpupool.api.v1alpha1.LedgerClass;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationLedger;

/** One Organization's contributor ledger as the operator checkpoints it in its status. */
final class OrganizationLedgers {

    private final KubernetesClient admin;
    private final String organization;

    OrganizationLedgers(KubernetesClient admin, String organization) {
        this.admin = admin;
        this.organization = organization;
    }

    /** The ledger in the Organization's status now, or null. */
    OrganizationLedger now() {
        Organization o = admin.resources(Organization.class).withName(organization).get();
        return o == null || o.getStatus() == null ? null : o.getStatus().ledger;
    }

    static LedgerClass ofClass(OrganizationLedger ledger, String gpuClass) {
        return ledger.classes.stream().filter(c -> gpuClass.equals(c.gpuClass)).findFirst().orElseThrow();
    }

    /** Asks for a cycle (an Organization spec edit), so that the status publisher checkpoints the ledger. */
    void touch(String displayName) {
        // A merge patch carries no resourceVersion: the operator writes the status meanwhile.
        admin.resources(Organization.class).withName(organization).patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"spec\":{\"displayName\":\"" + displayName + "\"}}");
    }

    /** Waits for the checkpoint taken at {@code at} (on the operator's clock) and returns it. */
    OrganizationLedger awaitCheckpoint(Instant at) {
        await().atMost(TestPool.WAIT).until(() -> {
            OrganizationLedger l = now();
            return l != null && at.toString().equals(l.checkpointTime);
        });
        return now();
    }

    /** Waits until the ledger counts {@code gpus} GPUs in use in some class. */
    void awaitUsedGpus(double gpus) {
        await().atMost(TestPool.WAIT).until(() -> {
            OrganizationLedger l = now();
            return l != null && l.classes.stream().anyMatch(c -> Double.valueOf(gpus).equals(c.usedGpus));
        });
    }
}
