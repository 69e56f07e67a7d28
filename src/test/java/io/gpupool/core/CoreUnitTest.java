package io.gpupool.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.gpupool.core.admission.FirstComeAdmission;
import io.gpupool.core.classes.GpuClassMatcher;
import io.gpupool.core.discovery.GpuNodes;
import io.gpupool.core.discovery.NodeGpuDiscovery;
import io.gpupool.core.memory.MemoryEstimator;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.validation.ModelDeploymentValidator;
import io.gpupool.testing.PoolFixtures;

/** Pure functions of the core: memory estimation, GPU discovery, classes, validation and first-come admission. */
class CoreUnitTest {

    @Test
    void memoryEstimateMatchesThePlanningRules() {
        // Llama-3.1-8B bf16, 8k context: ~15.3 GiB weights + 1 GiB KV, +15 %, over 0.9 of the card: fits a 24 GB card.
        var e8 = MemoryEstimator.estimate(8, "bf16", 8192, null, 1);
        assertThat(e8.weightsMiB()).isEqualTo(15259);
        assertThat(e8.kvCacheMiB()).isEqualTo(1024);
        assertThat(e8.perGpuMiB()).isBetween(20000L, 23034L);
        // Llama-3.1-70B bf16 needs 4×80 GB; fp8 fits 2×80 GB.
        assertThat(MemoryEstimator.estimate(70, "bf16", 8192, null, 2).perGpuMiB()).isGreaterThan(81559);
        assertThat(MemoryEstimator.estimate(70, "bf16", 8192, null, 4).perGpuMiB()).isLessThan(81559);
        assertThat(MemoryEstimator.estimate(70, "fp8", 8192, null, 2).perGpuMiB()).isLessThan(81559);
        assertThat(MemoryEstimator.estimate(7.6, "int4", 32768, null, 1).perGpuMiB()).isLessThan(24564);
    }

    @Test
    void discoveryReadsGfdLabelsAndSkipsNodesWithoutGpus() {
        var h100 = NodeGpuDiscovery.gpus(PoolFixtures.node("dgx-h100-01", "lab")).orElseThrow();
        assertThat(h100.product).isEqualTo("NVIDIA-H100-80GB-HBM3");
        assertThat(h100.count).isEqualTo(8);
        assertThat(h100.memoryMiB).isEqualTo(81559);
        assertThat(h100.computeCapability).isEqualTo("9.0");
        var mig = NodeGpuDiscovery.gpus(PoolFixtures.node("a100-40g-mig-01", "uni")).orElseThrow();
        assertThat(mig.count).isEqualTo(56);
        assertThat(mig.memoryMiB).isEqualTo(5120);
        assertThat(NodeGpuDiscovery.gpus(PoolFixtures.node("cpu-only-01", "uni"))).isEmpty();
        var notReady = GpuNodes.specOf(PoolFixtures.node("l4-02-notready", "uni"), "local").orElseThrow();
        assertThat(notReady.nodeReady).isFalse();
        assertThat(GpuNodes.specOf(PoolFixtures.node("l4-01", null), "local")).as("no organization label").isEmpty();
    }

    @Test
    void classMatchingUsesGlobsAndMemoryFloors() {
        var classes = List.of(new GpuClassDef("h100-80g", List.of("NVIDIA-H100-*"), 80000, 3.0),
                new GpuClassDef("rtx-24g", List.of("*RTX-4090*", "*RTX-3090*"), 20000, 0.5));
        assertThat(GpuClassMatcher.classify("NVIDIA-H100-80GB-HBM3", 81559, classes)).isEqualTo("h100-80g");
        assertThat(GpuClassMatcher.classify("NVIDIA-GeForce-RTX-4090", 24564, classes)).isEqualTo("rtx-24g");
        assertThat(GpuClassMatcher.classify("NVIDIA-GeForce-RTX-4090", 12000, classes)).isNull();
        assertThat(GpuClassMatcher.classify("Tesla-T4", 15360, classes)).isNull();
    }

    @Test
    void globsStillMatchAfterTheCacheOfCompiledGlobsOverflows() {
        // More distinct globs than the cache keeps: it is emptied on the way, and every answer stays right.
        for (int i = 0; i < 2500; i++) {
            assertThat(GpuClassMatcher.globMatches("GPU-" + i + "-*", "gpu-" + i + "-80gb")).isTrue();
            assertThat(GpuClassMatcher.globMatches("GPU-" + i + "-?", "GPU-" + i + "-80")).isFalse();
        }
    }

    @Test
    void validatorExplainsEachProblem() {
        var md = PoolFixtures.modelDeployment("ns", "ok", 1, 1);
        assertThat(ModelDeploymentValidator.validate("ok", md.getSpec())).isEmpty();
        md.getSpec().model.source = "pvc://models/llama";
        md.getSpec().engine = "ollama";
        md.getSpec().gpu.count = 0;
        md.getSpec().engineArgs = List.of("--port=9000");
        md.getSpec().env = List.of(new io.fabric8.kubernetes.api.model.EnvVar("GPUPOOL_ALLOW_REMOTE_CODE", "true", null));
        assertThat(ModelDeploymentValidator.validate("9bad", md.getSpec())).hasSize(6)
                .anySatisfy(p -> assertThat(p).contains("scheme 'pvc' is not supported yet"))
                .anySatisfy(p -> assertThat(p).contains("unknown engine 'ollama'"))
                .anySatisfy(p -> assertThat(p).contains("spec.gpu.count must be at least 1"))
                .anySatisfy(p -> assertThat(p).contains("must not set --port"))
                .anySatisfy(p -> assertThat(p).contains("must not set GPUPOOL_ALLOW_REMOTE_CODE"))
                .anySatisfy(p -> assertThat(p).contains("metadata.name '9bad'"));

        var gguf = PoolFixtures.modelDeployment("ns", "gguf", 1, 1);
        gguf.getSpec().engine = "llamacpp";
        gguf.getSpec().model.file = "model-Q4_K_M.gguf";
        assertThat(ModelDeploymentValidator.validate("gguf", gguf.getSpec())).isEmpty();
        gguf.getSpec().model.revision = "0123456789abcdef0123456789abcdef01234567";
        assertThat(ModelDeploymentValidator.validate("gguf", gguf.getSpec())).singleElement().asString()
                .contains("engine llamacpp serves the repository's main branch only");
    }

    private static PoolNode node(String name, String cls, long mib, int gpus) {
        return new PoolNode(new NodeKey("local", name), "org", cls, mib, gpus, NodeState.SCHEDULABLE);
    }

    private static Workload workload(String name, long arrival, int gpus, int replicas, List<Assignment> assigned) {
        return new Workload(new WorkloadId("ns", name), "org", gpus, 20000, List.of(), replicas, 0, false, arrival,
                false, assigned, List.of());
    }

    @Test
    void firstComeAdmitsOldestFirstWithTightestFitAndNeverDoubleBooks() {
        var nodes = List.of(node("big", "a100", 81920, 8), node("small", "a100", 81920, 2));
        var older = workload("older", 1, 2, 1, List.of());
        var newer = workload("newer", 2, 4, 3, List.of());
        CycleResult r = new FirstComeAdmission().cycle(new PoolSnapshot(List.of(), nodes, List.of(),
                List.of(newer, older), PoolPolicy.DEFAULT));
        // The 2-GPU replica takes the 2-GPU node (tightest fit), leaving the 8-GPU node for two 4-GPU replicas.
        assertThat(r.assignments().get(older.id())).containsExactly(new Assignment(new NodeKey("local", "small"), "a100", 1));
        assertThat(r.assignments().get(newer.id())).containsExactly(new Assignment(new NodeKey("local", "big"), "a100", 2));
        assertThat(r.pending().get(newer.id()).reason()).isEqualTo(PendingReason.INSUFFICIENT_CAPACITY);
        assertThat(r.pending()).doesNotContainKey(older.id());
    }

    @Test
    void replicasOnAGoneNodeArePlacedElsewhereAndDrainingGpusStayBooked() {
        var gone = new PoolNode(new NodeKey("local", "gone"), "org", "a100", 81920, 1, NodeState.GONE);
        var spare = node("spare", "a100", 81920, 1);
        var moved = workload("moved", 1, 1, 1, List.of(new Assignment(gone.key(), "a100", 1)));
        CycleResult r = new FirstComeAdmission().cycle(new PoolSnapshot(List.of(), List.of(gone, spare), List.of(),
                List.of(moved), PoolPolicy.DEFAULT));
        assertThat(r.assignments().get(moved.id())).containsExactly(new Assignment(spare.key(), "a100", 1));

        var draining = new Workload(new WorkloadId("ns", "old"), "org", 1, 20000, List.of(), 0, 0, false, 0, false,
                List.of(), List.of(new Assignment(spare.key(), "a100", 1)));
        var waiting = workload("waiting", 1, 1, 1, List.of());
        r = new FirstComeAdmission().cycle(new PoolSnapshot(List.of(), List.of(spare), List.of(),
                List.of(draining, waiting), PoolPolicy.DEFAULT));
        assertThat(r.assignments().get(waiting.id())).isEmpty();
        assertThat(r.pending().get(waiting.id()).reason()).isEqualTo(PendingReason.INSUFFICIENT_CAPACITY);
        assertThat(Map.copyOf(r.pending())).hasSize(1);
    }
}
