package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.LedgerClass;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationLedger;
import io.gpupool.operator.LeaderElection;
import io.gpupool.testing.ManualClock;
import io.gpupool.testing.PoolFixtures;

/**
 * The contributor ledger across a leader change on a real API server: two operator replicas with leader election (as
 * the chart runs them), the leader killed in the middle of a checkpoint period. The standby, whose caches ran all
 * along, takes over from the dead leader's last checkpoint: the time between that checkpoint and the takeover (the
 * dead leader's unrecorded minutes and the lease's wait) is counted once, none of it lost, none of it twice.
 *
 * <p>The ledger integrates on an injected clock that both replicas share (one machine's time), so the expected GPU-hours
 * are exact: one GPU held without a break from T0 makes {@code usedGpuHours} the hours elapsed on that clock. Leadership
 * itself runs on real time (the lease), which only decides when the standby takes over, not what it counts.
 */
@ApiServerTier
class LedgerLeaderChangeApiServerTest {

    private static final String NS = "ledger-leader";
    private static final String ORG = "ledger-leader-org";
    private static final String CLASS = "ledger-leader-a10";
    private static final String LEASE_NAMESPACE = "gpupool-system";
    private static final Instant T0 = Instant.parse("2026-06-02T08:00:00Z");

    private static KubernetesClient admin;
    private static TestPool pool;
    private static OrganizationLedgers ledgers;
    private static InProcessOperator leader;
    private static InProcessOperator standby;

    @BeforeAll
    static void setUp(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        admin.resource(PoolFixtures.namespace(LEASE_NAMESPACE)).createOr(r -> r.update());
        pool = new TestPool(admin).member(NS, ORG).gpuClass(CLASS, 20000, "NVIDIA-A10");
        ledgers = new OrganizationLedgers(admin, ORG);
    }

    @AfterAll
    static void tearDown() {
        try {
            if (leader != null) {
                leader.close();
            }
        } finally {
            try {
                TestPool.tearDown(pool, standby);
            } finally {
                admin.resources(Lease.class).inNamespace(LEASE_NAMESPACE)
                        .withName(LeaderElection.LEASE_NAME).delete();
            }
        }
    }

    private static String holder() {
        Lease lease = admin.resources(Lease.class).inNamespace(LEASE_NAMESPACE)
                .withName(LeaderElection.LEASE_NAME).get();
        return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
    }

    /** For a failure's message: the lease, the ModelDeployment's status, the GpuNode's and the Organization's. */
    private static String whatTheApiServerHolds() {
        ModelDeployment md = admin.resources(ModelDeployment.class).inNamespace(NS).withName("chat").get();
        GpuNode node = pool.gpuNode("a10-01");
        Organization org = admin.resources(Organization.class).withName(ORG).get();
        // The first line is what a CI summary shows.
        String conditions = md == null || md.getStatus() == null || md.getStatus().conditions == null ? "none"
                : md.getStatus().conditions.stream().map(c -> c.getType() + "=" + c.getStatus() + " " + c.getReason())
                        .collect(java.util.stream.Collectors.joining(", "));
        return "lease holder " + holder() + ", ModelDeployment conditions: " + conditions + "\nModelDeployment status:\n"
                + (md == null ? "none" : Serialization.asYaml(md.getStatus())) + "GpuNode status:\n"
                + (node == null ? "none" : Serialization.asYaml(node.getStatus())) + "Organization status:\n"
                + (org == null ? "none" : Serialization.asYaml(org.getStatus()));
    }

    private static LedgerClass a10(OrganizationLedger l) {
        return OrganizationLedgers.ofClass(l, CLASS);
    }

    @Test
    void aNewLeaderNeitherLosesNorCountsTwiceTheTimeSinceTheDeadLeadersLastCheckpoint(
            RealKubeApiServer.Server server) {
        ManualClock clock = new ManualClock(T0);
        leader = InProcessOperator.startElected(new KubernetesClientBuilder().withConfig(server.adminConfig()).build(),
                clock, "ledger-leader-0", LEASE_NAMESPACE);
        await().atMost(TestPool.WAIT).until(() -> "ledger-leader-0".equals(holder()));
        standby = InProcessOperator.startElected(new KubernetesClientBuilder().withConfig(server.adminConfig()).build(),
                clock, "ledger-leader-1", LEASE_NAMESPACE);

        pool.contribute("a10-01", ORG);
        ModelDeployment md = PoolFixtures.modelDeployment(NS, "chat", 1, 1);
        md.getSpec().gpu.classes = List.of(CLASS);
        md.getSpec().model.maxContextLength = 4096;
        admin.resource(md).fieldManager("kubectl").serverSideApply();
        try {
            ledgers.awaitUsedGpus(1);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("no GPU counted in use; " + whatTheApiServerHolds(), e);
        }
        assertThat(ledgers.now().since).isEqualTo(T0.toString());
        int contributedGpus = a10(ledgers.now()).contributedGpus.intValue();
        assertThat(contributedGpus).as("the pool's own node: all its GPUs count").isEqualTo(2);

        // Half an hour in, the leader checkpoints; a quarter of an hour later it is killed: those 15 minutes are in no
        // checkpoint.
        clock.advance(Duration.ofMinutes(30));
        ledgers.touch("half an hour");
        OrganizationLedger checkpointed = ledgers.awaitCheckpoint(T0.plus(Duration.ofMinutes(30)));
        assertThat(a10(checkpointed).usedGpuHours).isCloseTo(0.5, within(1e-9));
        clock.advance(Duration.ofMinutes(15));
        leader.kill();
        assertThat(holder()).as("a killed leader releases nothing").isEqualTo("ledger-leader-0");

        // The standby can lead only once the lease has expired (seconds of real time); the clock says an hour by then.
        clock.set(T0.plus(Duration.ofMinutes(60)));
        await().atMost(TestPool.WAIT).until(() -> "ledger-leader-1".equals(holder()));
        OrganizationLedger takeover = ledgers.awaitCheckpoint(T0.plus(Duration.ofMinutes(60)));
        assertThat(a10(takeover).usedGpuHours)
                .as("the half hour since the dead leader's checkpoint, counted once: 1 GPU for 1 hour")
                .isCloseTo(1.0, within(1e-9));
        assertThat(a10(takeover).contributedGpuHours).isCloseTo(1.0 * contributedGpus, within(1e-9));

        // And the new leader goes on counting from there.
        clock.set(T0.plus(Duration.ofMinutes(90)));
        ledgers.touch("an hour and a half");
        OrganizationLedger after = ledgers.awaitCheckpoint(T0.plus(Duration.ofMinutes(90)));
        assertThat(a10(after).usedGpuHours).as("1 GPU for 1.5 hours, once").isCloseTo(1.5, within(1e-9));
        assertThat(a10(after).contributedGpuHours).isCloseTo(1.5 * contributedGpus, within(1e-9));
        assertThat(after.since).isEqualTo(T0.toString());
        assertThat(after.days).singleElement().satisfies(d -> assertThat(d.day).isEqualTo("2026-06-02"));
    }
}
