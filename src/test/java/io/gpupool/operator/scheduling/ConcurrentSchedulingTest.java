package io.gpupool.operator.scheduling;

import static io.gpupool.testing.PoolFixtures.gpuClass;
import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static io.gpupool.testing.PoolFixtures.node;
import static io.gpupool.testing.PoolFixtures.organization;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.core.discovery.GpuNodes;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.serving.Admission;

/**
 * Many reconciles asking for GPUs at once, as a burst of applies makes them: the scheduler may serve several of them
 * with one cycle, but every caller must get the admission the ledger holds for it, and no GPU may be handed out twice.
 */
class ConcurrentSchedulingTest {

    private static final int NODES = 10;
    private static final int THREADS = 8;
    private static final int DEMANDS = 120;

    @Test
    void aBurstOfDemandsNeverDoubleBooksAndEveryCallerGetsItsOwnAnswer() throws Exception {
        PoolScheduler scheduler = new PoolScheduler(new FairShareAdmission(), Clock.systemUTC());
        Map<WorkloadId, Integer> requeued = new ConcurrentHashMap<>();
        scheduler.onRequeue(id -> requeued.merge(id, 1, Integer::sum));
        PoolView view = new FixedPool();

        CountDownLatch start = new CountDownLatch(1);
        ExecutorService reconcilers = Executors.newFixedThreadPool(THREADS);
        Map<WorkloadId, Future<Admission>> answers = new HashMap<>();
        for (int i = 0; i < DEMANDS; i++) {
            ModelDeployment md = modelDeployment("lab", String.format("md-%03d", i), 1, 1);
            md.getMetadata().setCreationTimestamp(String.format("2026-06-01T12:%02d:%02dZ", i / 60, i % 60));
            answers.put(Workloads.id(md), reconcilers.submit(() -> {
                start.await();
                return scheduler.schedule(Workloads.demand(md, "lab", List.of(), List.of()), view);
            }));
        }
        start.countDown();
        reconcilers.shutdown();
        assertThat(reconcilers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();

        // No node holds more GPUs than it has, and every GPU of the pool is used: 80 of the 120 one-GPU demands.
        assertThat(scheduler.allocatedGpus().values()).allSatisfy(gpus -> assertThat(gpus).isLessThanOrEqualTo(8));
        assertThat(scheduler.allocatedGpus().values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(NODES * 8);
        // Every caller's answer is what the ledger holds for it now, unless a later cycle changed it and asked for
        // another reconcile (a requeue).
        Map<WorkloadId, List<Placement>> ledger = new HashMap<>();
        scheduler.workloads().forEach(w -> ledger.put(w.id(), w.assigned().stream()
                .map(a -> new Placement(a.node().cluster(), a.node().node(), a.gpuClass(), a.replicas())).toList()));
        int admitted = 0;
        for (var e : answers.entrySet()) {
            Admission answer = e.getValue().get();
            admitted += answer.admittedReplicas();
            if (!requeued.containsKey(e.getKey())) {
                assertThat(answer.placements()).as("answer of %s", e.getKey()).isEqualTo(ledger.get(e.getKey()));
            }
            assertThat(answer.admittedReplicas() == 1 || answer.pending() != null).as("%s waits with a reason", e.getKey())
                    .isTrue();
        }
        assertThat(admitted).isEqualTo(NODES * 8);
    }

    /** Ten 8-GPU H100 nodes of the pool's own cluster, contributed by organization lab. */
    private static final class FixedPool implements PoolView {
        private final List<GpuNode> nodes = new ArrayList<>();
        private final List<GpuClass> classes = List.of(gpuClass("h100-80g", 80000, "NVIDIA-H100-*"));
        private final List<Organization> orgs = List.of(organization("lab"));

        FixedPool() {
            for (int n = 0; n < NODES; n++) {
                Node node = node("dgx-h100-01", "lab");
                node.getMetadata().setName("dgx-" + n);
                GpuNode g = new GpuNode();
                g.setMetadata(new ObjectMetaBuilder().withNamespace("gpupool-cluster-local").withName("dgx-" + n).build());
                g.setSpec(GpuNodes.specOf(node, "local").orElseThrow());
                nodes.add(g);
            }
        }

        @Override
        public List<GpuClass> gpuClasses() {
            return classes;
        }

        @Override
        public List<GpuNode> gpuNodes() {
            return nodes;
        }

        @Override
        public List<Organization> organizations() {
            return orgs;
        }

        @Override
        public Optional<GpuPool> pool() {
            return Optional.empty();
        }

        @Override
        public Map<String, String> contributedClusters() {
            return Map.of();
        }

        @Override
        public List<ModelDeployment> modelDeployments() {
            return List.of();
        }

        @Override
        public Map<String, Integer> memberNamespaces() {
            return Map.of("lab", 1);
        }

        @Override
        public Map<WorkloadId, Map<NodeKey, Integer>> livePods() {
            return Map.of();
        }
    }
}
