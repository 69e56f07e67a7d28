package io.gpupool.core.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.ClassUsage;
import io.gpupool.api.v1alpha1.GpuNodeStatus;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.OrganizationStatus;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ReplicaCounts;
import io.gpupool.testing.ManualClock;

class StatusDiffTest {

    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    private final ManualClock clock = new ManualClock(Instant.parse("2026-06-01T12:00:00Z"));

    private ModelDeploymentStatus status(int ready) {
        ModelDeploymentStatus s = new ModelDeploymentStatus();
        s.phase = "Running";
        s.replicas = new ReplicaCounts(2, 2, ready);
        s.placements = List.of(new Placement("local", "n1", "l4", 2));
        s.conditions = Conditions.set(List.of(), Conditions.READY, true, "AllReplicasReady", "2 of 2", 3L, clock);
        s.observedGeneration = 3L;
        return s;
    }

    @Test
    void aStatusRebuiltFromTheSameFactsIsTheSameEvenAfterARoundTripThroughTheApiServer() {
        ModelDeploymentStatus read = JSON.unmarshal(JSON.asJson(status(2)), ModelDeploymentStatus.class);
        assertThat(StatusDiff.same(read, status(2))).isTrue();
        assertThat(StatusDiff.same(read, status(1))).isFalse();
        assertThat(StatusDiff.same(null, status(1))).isFalse();
        assertThat(StatusDiff.same(null, null)).isTrue();
    }

    @Test
    void everyFieldCountsExceptThoseAnotherWriterOwns() {
        GpuNodeStatus a = new GpuNodeStatus();
        a.allocatable = 8;
        a.lastHeartbeatTime = "2026-06-01T12:00:00Z";
        GpuNodeStatus b = new GpuNodeStatus();
        b.allocatable = 8;
        b.lastHeartbeatTime = "2026-06-01T12:00:30Z";
        assertThat(StatusDiff.same(a, b)).isFalse();
        assertThat(StatusDiff.same(a, b, "lastHeartbeatTime")).isTrue();
        b.allocated = 2;
        assertThat(StatusDiff.same(a, b, "lastHeartbeatTime")).isFalse();
    }

    @Test
    void nestedValuesAreComparedByValue() {
        OrganizationStatus a = new OrganizationStatus();
        a.classes = List.of(new ClassUsage("a100", 8, 7, 2, 0, 0, 0));
        OrganizationStatus b = new OrganizationStatus();
        b.classes = List.of(new ClassUsage("a100", 8, 7, 2, 0, 0, 0));
        assertThat(StatusDiff.same(a, b)).isTrue();
        b.classes = List.of(new ClassUsage("a100", 8, 7, 3, 0, 0, 0));
        assertThat(StatusDiff.same(a, b)).isFalse();
    }
}
