package io.gpupool.bench.apiserver;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.api.v1alpha1.ModelSpec;

/**
 * Kueue's scheduler baseline (kueue test/performance/scheduler/configs/baseline/generator.yaml) played against the
 * operator: workloads arrive over time, run for a while once admitted and finish, so quota is handed out again and
 * again. Per organization (Kueue's ClusterQueue; 5 groups × 6 = 30, nominal quota 20 each) three generators run side
 * by side, each creating one workload after every interval:
 *
 * <pre>
 * class   count  interval  runtime  priority  request
 * small   350    100 ms    200 ms   50        1 GPU
 * medium  100    500 ms    500 ms   100       5 GPUs
 * large   50     1200 ms   1000 ms  200       20 GPUs
 * </pre>
 *
 * A workload is a ModelDeployment of ONE replica with {@code gpu.count} = the request, so that, as in Kueue, it is
 * admitted whole or not at all; its priority is {@code spec.priority} (Kueue's preemption within a ClusterQueue is
 * by lower priority, as here within an organization). Each organization contributes one Node of 20 GPUs of its
 * group's class (its nominal quota; a replica's GPUs are on one node, and the large class asks for 20); organizations
 * of a group borrow each other's idle GPUs, like the ClusterQueues of a cohort (Kueue's borrowingLimit 100 never
 * binds with 120 GPUs per cohort). The runner does what Kueue's does: when the watch sees a workload admitted it waits
 * the workload's runtime and then finishes it ({@code spec.replicas: 0}, the object stays like a Finished Workload;
 * or deleted with {@code --kueue-finish delete}). A workload that loses its admission before its runtime is over
 * (preempted) runs its whole runtime again once admitted again. Counts scale with {@code --scale}; intervals,
 * runtimes and quotas do not.
 */
final class KueueLikeRun implements AutoCloseable {

    /** One workload class of Kueue's baseline. */
    record WorkloadClass(String name, int count, long intervalMillis, long runtimeMillis, int priority, int gpus) {
    }

    static final List<WorkloadClass> BASELINE = List.of(
            new WorkloadClass("small", 350, 100, 200, 50, 1),
            new WorkloadClass("medium", 100, 500, 500, 100, 5),
            new WorkloadClass("large", 50, 1200, 1000, 200, 20));

    /** Kueue's nominal quota per ClusterQueue: here the GPUs each organization contributes, on one node. */
    static final int NOMINAL_GPUS = 20;

    /**
     * The pool: 5 groups × 6 organizations, each asking 20 one-GPU replicas at capacity 1.0, i.e. contributing one node
     * of 20 GPUs (the shape is used for the pool only; the workloads are {@link #BASELINE}).
     */
    static final PoolShape POOL = new PoolShape(5, 6, 5 * 6 * NOMINAL_GPUS, 1, 1.0, NOMINAL_GPUS);

    /** What the run saw of one workload, on this JVM's monotonic clock. */
    static final class Tracked {
        final WorkloadClass type;
        final int org;
        final String namespace;
        final String name;
        volatile long createdNanos;
        volatile long firstAdmittedNanos;
        /** Start of the current run (admission seen), 0 while not running. */
        volatile long runningSinceNanos;
        volatile long finishedNanos;
        volatile int admissions;
        volatile boolean admittedNow;
        /** GPU-nanoseconds held while admitted. */
        volatile long gpuNanos;

        Tracked(WorkloadClass type, int org, String name) {
            this.type = type;
            this.org = org;
            this.namespace = POOL.namespace(org);
            this.name = name;
        }
    }

    private final KubernetesClient client;
    private final boolean delete;
    private final Map<String, Tracked> workloads = new ConcurrentHashMap<>();
    private final List<List<Tracked>> generators = new ArrayList<>();
    private final ScheduledExecutorService finisher;
    private final CountDownLatch finished;
    private final AtomicInteger preemptions = new AtomicInteger();
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    private SharedIndexInformer<ModelDeployment> informer;

    /**
     * @param scale  multiplies the count of each class (at least one of each per organization)
     * @param delete finish by deleting the ModelDeployment instead of scaling it to 0
     */
    KueueLikeRun(KubernetesClient client, double scale, boolean delete, int finishers) {
        this.client = client;
        this.delete = delete;
        this.finisher = Executors.newScheduledThreadPool(finishers, r -> {
            Thread t = new Thread(r, "kueue-like-finisher");
            t.setDaemon(true);
            return t;
        });
        for (int org = 0; org < POOL.organizations(); org++) {
            for (WorkloadClass c : BASELINE) {
                List<Tracked> sequence = new ArrayList<>();
                for (int k = 0; k < countOf(c, scale); k++) {
                    Tracked t = new Tracked(c, org, String.format("%s-%04d", c.name(), k));
                    workloads.put(key(t.namespace, t.name), t);
                    sequence.add(t);
                }
                generators.add(sequence);
            }
        }
        this.finished = new CountDownLatch(workloads.size());
    }

    static int countOf(WorkloadClass c, double scale) {
        return (int) Math.max(1, Math.round(c.count() * scale));
    }

    int size() {
        return workloads.size();
    }

    List<Tracked> tracked() {
        return List.copyOf(workloads.values());
    }

    int preemptions() {
        return preemptions.get();
    }

    static String describe(double scale) {
        StringBuilder out = new StringBuilder();
        for (WorkloadClass c : BASELINE) {
            out.append(String.format("%s %d × %d GPU(s) every %d ms, runtime %d ms, priority %d; ", c.name(),
                    countOf(c, scale), c.gpus(), c.intervalMillis(), c.runtimeMillis(), c.priority()));
        }
        return out + "per organization, " + POOL.organizations() + " organizations in " + POOL.groups()
                + " groups, one " + NOMINAL_GPUS + "-GPU node each";
    }

    /** Starts watching, then runs every generator (one thread each, as Kueue's runner does) until all have created. */
    void createAll() throws InterruptedException {
        informer = client.resources(ModelDeployment.class).inAnyNamespace().inform(new WatchClock.Handler<>(this::seen));
        List<Thread> threads = new ArrayList<>();
        for (List<Tracked> sequence : generators) {
            Thread t = new Thread(() -> {
                for (Tracked w : sequence) {
                    if (failure.get() != null) {
                        return;
                    }
                    try {
                        Thread.sleep(w.type.intervalMillis()); // Kueue's generator waits the interval before each
                        w.createdNanos = System.nanoTime();
                        client.resource(modelDeployment(w)).create();
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, e);
                    }
                }
            }, "kueue-like-generator");
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** Waits until every workload has finished; false on timeout. */
    boolean awaitFinished(long deadlineNanos, Runnable everyFewSeconds) throws InterruptedException {
        while (finished.getCount() > 0) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            finished.await(Math.min(left, 15_000_000_000L), TimeUnit.NANOSECONDS);
            if (failure.get() != null) {
                throw failure.get();
            }
            if (finished.getCount() > 0) {
                everyFewSeconds.run();
            }
        }
        return true;
    }

    long remaining() {
        return finished.getCount();
    }

    private ModelDeployment modelDeployment(Tracked w) {
        ModelDeployment md = new ModelDeployment();
        md.setMetadata(new ObjectMetaBuilder().withName(w.name).withNamespace(w.namespace)
                .addToLabels("bench.gpupool.io/class", w.type.name()).build());
        ModelDeploymentSpec spec = new ModelDeploymentSpec();
        spec.model = new ModelSpec();
        spec.model.source = BenchPool.MODEL;
        spec.model.parametersBillions = 0.5;
        spec.model.maxContextLength = 4096;
        spec.replicas = 1;
        spec.priority = w.type.priority();
        spec.gpu.count = w.type.gpus();
        spec.gpu.classes = List.of(POOL.group(w.org).gpuClass());
        md.setSpec(spec);
        return md;
    }

    private static String key(String namespace, String name) {
        return namespace + "/" + name;
    }

    /** Called for every ModelDeployment event: starts a run at admission, notices a preemption. */
    private void seen(ModelDeployment md) {
        Tracked w = workloads.get(key(md.getMetadata().getNamespace(), md.getMetadata().getName()));
        if (w == null || w.finishedNanos != 0 || md.getSpec() == null || md.getSpec().replicas == 0) {
            return;
        }
        long now = System.nanoTime();
        boolean admitted = WatchClock.ADMITTED.test(md);
        synchronized (w) {
            if (admitted && !w.admittedNow) {
                w.admittedNow = true;
                w.admissions++;
                w.runningSinceNanos = now;
                if (w.firstAdmittedNanos == 0) {
                    w.firstAdmittedNanos = now;
                }
                long run = now;
                finisher.schedule(() -> finish(w, run), w.type.runtimeMillis(), TimeUnit.MILLISECONDS);
            } else if (!admitted && w.admittedNow) {
                w.admittedNow = false; // evicted before its runtime was over: it runs again from the start
                w.gpuNanos += (now - w.runningSinceNanos) * w.type.gpus();
                w.runningSinceNanos = 0;
                preemptions.incrementAndGet();
            }
        }
    }

    private void finish(Tracked w, long run) {
        long now = System.nanoTime();
        synchronized (w) {
            if (!w.admittedNow || w.runningSinceNanos != run || w.finishedNanos != 0) {
                return; // preempted meanwhile: the next admission starts a new run
            }
            w.admittedNow = false;
            w.gpuNanos += (now - w.runningSinceNanos) * w.type.gpus();
            w.finishedNanos = now;
        }
        try {
            var resource = client.resources(ModelDeployment.class).inNamespace(w.namespace).withName(w.name);
            if (delete) {
                resource.delete();
            } else {
                resource.patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":0}}");
            }
        } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
        }
        finished.countDown();
    }

    @Override
    public void close() {
        finisher.shutdownNow();
        if (informer != null) {
            informer.close();
        }
    }
}
