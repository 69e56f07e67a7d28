package io.gpupool.operator.scheduling;

import static io.gpupool.testing.PoolFixtures.node;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuNodeStatus;
import io.gpupool.core.admission.FirstComeAdmission;
import io.gpupool.core.discovery.GpuNodes;
import io.gpupool.testing.ManualClock;

/** Liveness of contributed nodes is judged by the pool's clock, whatever the contributor's clock says. */
class HeartbeatTest {

    private final ManualClock clock = new ManualClock(Instant.parse("2026-06-01T12:00:00Z"));

    private static GpuNode remote(String beat, String created) {
        GpuNode n = new GpuNode();
        n.setMetadata(new ObjectMetaBuilder().withNamespace("gpupool-cluster-lab").withName("l4-01")
                .withCreationTimestamp(created).build());
        n.setSpec(GpuNodes.specOf(node("l4-01", null), "lab", "uni-nlp").orElseThrow());
        if (beat != null) {
            n.setStatus(new GpuNodeStatus());
            n.getStatus().lastHeartbeatTime = beat;
        }
        return n;
    }

    @Test
    void heartbeatsCountWhenThePoolSeesThemArrive() {
        NodeLiveness liveness = new NodeLiveness(clock);
        // An agent whose clock runs an hour ahead: its stamp is not believed beyond now.
        GpuNode ahead = remote("2026-06-01T13:00:00Z", "2026-06-01T11:00:00Z");
        assertThat(liveness.heartbeat(ahead, clock.instant())).isEqualTo(clock.instant());
        // An agent whose clock runs an hour behind: each new beat counts from when the pool saw it.
        clock.advance(Duration.ofSeconds(30));
        GpuNode behind = remote("2026-06-01T11:00:30Z", "2026-06-01T11:00:00Z");
        liveness.observe(behind);
        clock.advance(Duration.ofSeconds(5));
        assertThat(liveness.heartbeat(behind, clock.instant())).isEqualTo(Instant.parse("2026-06-01T12:00:30Z"));
        // The same beat seen again later does not refresh it.
        clock.advance(Duration.ofSeconds(60));
        liveness.observe(behind);
        assertThat(liveness.heartbeat(behind, clock.instant())).isEqualTo(Instant.parse("2026-06-01T12:00:30Z"));
        // Before the first heartbeat, the GpuNode's creation; without even that, long gone.
        assertThat(liveness.heartbeat(remote(null, "2026-06-01T11:59:00Z"), clock.instant()))
                .isEqualTo(Instant.parse("2026-06-01T11:59:00Z"));
        assertThat(liveness.heartbeat(remote(null, null), clock.instant())).isEqualTo(Instant.EPOCH);
    }

    /** The pool as the view shows it: cluster "lab" approved for uni-nlp, the default GpuPool. */
    private static final PoolView LAB_APPROVED = new PoolView() {
        @Override
        public java.util.List<io.gpupool.api.v1alpha1.GpuClass> gpuClasses() {
            return java.util.List.of();
        }

        @Override
        public java.util.List<GpuNode> gpuNodes() {
            return java.util.List.of();
        }

        @Override
        public java.util.List<io.gpupool.api.v1alpha1.Organization> organizations() {
            return java.util.List.of();
        }

        @Override
        public java.util.Optional<io.gpupool.api.v1alpha1.GpuPool> pool() {
            return java.util.Optional.empty();
        }

        @Override
        public java.util.Map<String, String> contributedClusters() {
            return java.util.Map.of("lab", "uni-nlp");
        }

        @Override
        public java.util.List<io.gpupool.api.v1alpha1.ModelDeployment> modelDeployments() {
            return java.util.List.of();
        }

        @Override
        public java.util.Map<io.gpupool.core.model.WorkloadId, java.util.Map<io.gpupool.core.model.NodeKey, Integer>> livePods() {
            return java.util.Map.of();
        }
    };

    @Test
    void aGpuNodeThePoolDoesNotBelieveKeepsNoTrustedNodeAlive() {
        PoolScheduler scheduler = new PoolScheduler(new FirstComeAdmission(), clock);
        GpuNode trusted = remote("2026-06-01T12:00:00Z", "2026-06-01T11:00:00Z");
        assertThat(scheduler.observe(trusted, LAB_APPROVED)).isTrue();
        clock.advance(Duration.ofSeconds(100));
        // Somebody who may write GpuNodes elsewhere names lab's node, beats for it, and says it is cordoned.
        GpuNode forged = remote("2026-06-01T12:01:40Z", "2026-06-01T11:00:00Z");
        forged.getMetadata().setNamespace("gpupool-cluster-rogue");
        forged.getSpec().unschedulable = true;
        assertThat(scheduler.observe(forged, LAB_APPROVED)).isFalse();
        // ... and one in lab's own namespace that claims more GPUs than a machine has.
        GpuNode inflated = remote("2026-06-01T12:01:40Z", "2026-06-01T11:00:00Z");
        inflated.getSpec().gpu.count = 1024;
        assertThat(scheduler.observe(inflated, LAB_APPROVED)).isFalse();
        // The trusted node's last heartbeat is still the one its agent sent.
        assertThat(scheduler.liveness.heartbeat(trusted, clock.instant()))
                .isEqualTo(Instant.parse("2026-06-01T12:00:00Z"));

        // A forged GpuNode also says the node is not ready. When the node really stops being ready (its agent says so,
        // later), the pool counts the heartbeat timeout from then, not from the forgery: the node is not ready, not
        // gone, until the timeout has passed since its own agent said so.
        GpuNode forgedNotReady = remote("2026-06-01T12:01:40Z", "2026-06-01T11:00:00Z");
        forgedNotReady.getMetadata().setNamespace("gpupool-cluster-rogue");
        forgedNotReady.getSpec().nodeReady = false;
        assertThat(scheduler.observe(forgedNotReady, LAB_APPROVED)).isFalse();
        clock.advance(Duration.ofSeconds(100));
        GpuNode notReady = remote("2026-06-01T12:03:20Z", "2026-06-01T11:00:00Z");
        notReady.getSpec().nodeReady = false;
        assertThat(scheduler.observe(notReady, LAB_APPROVED)).isTrue();
        clock.advance(Duration.ofSeconds(110));
        var assessed = scheduler.liveness.assess(java.util.List.of(notReady), LAB_APPROVED.contributedClusters(),
                java.util.List.of(), Duration.ofSeconds(120));
        assertThat(assessed.gone()).isEmpty();
        assertThat(assessed.nodes()).singleElement()
                .satisfies(n -> assertThat(n.state()).isEqualTo(io.gpupool.core.model.NodeState.NOT_READY));
    }
}
