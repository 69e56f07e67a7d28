package io.gpupool.testing;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.cluster.PodNetwork;
import io.gpupool.core.render.ServingContract;
import io.gpupool.core.render.ServingRenderer;
import io.vertx.core.Vertx;

/**
 * A pod network on which SIMULATED OpenAI engines answer: every pod it addresses gets a loopback address of its own as
 * its IP (127.0.0.N, which Linux routes to lo), and a pod that serves a model (the serving contract's served name in its
 * environment) gets a {@link FakeEngine} listening there on its serving port, so that whoever reaches the pod by its IP
 * (the gateway, an agent) reaches the engine as it would a real one. The engine stops when the pod is gone. Other pods
 * get an address nothing answers on.
 *
 * <p>The one way serving pods get engines, wherever pods come from: the simulated kubelet of the cluster harness
 * ({@link io.gpupool.cluster.SimulatedKubelet#addresses}, under the real Deployment controller and scheduler) in tests,
 * the playground and the gateway benchmark, and the playground's embedded kubelet where no controllers run.
 */
public final class EnginePodNetwork implements PodNetwork {

    /** Loopback addresses handed out so far in this JVM (127.0.0.2 and up; 127.0.0.1 stays for everything else). */
    private static final AtomicInteger NEXT = new AtomicInteger(2);

    private final Vertx vertx;
    private final BiConsumer<Pod, FakeEngine> setUp;
    /** Pod uid to its pod and engine. */
    private final Map<String, Running> engines = new ConcurrentHashMap<>();

    private record Running(Pod pod, FakeEngine engine) {
    }

    /** Engines that answer at once with the pod's served name. */
    public EnginePodNetwork(Vertx vertx) {
        this(vertx, (pod, engine) -> {
        });
    }

    /**
     * @param setUp adjusts each pod's engine before it listens (service time, streaming, echo ...); engines start
     *              answering at once and keep the bodies they receive
     */
    public EnginePodNetwork(Vertx vertx, BiConsumer<Pod, FakeEngine> setUp) {
        this.vertx = vertx;
        this.setUp = setUp;
    }

    /** Engines that take this long to answer and keep no bodies (long runs: the playground). */
    public static EnginePodNetwork answeringIn(Vertx vertx, Duration serviceTime) {
        return new EnginePodNetwork(vertx, (pod, engine) -> engine.serviceTime(serviceTime).forgetBodies());
    }

    /** The next loopback address of this JVM (127.0.0.2 .. 127.0.255.254), for an engine of its own. */
    public static String nextLoopback() {
        int n = NEXT.getAndIncrement();
        return "127.0." + (n / 254) + "." + (n % 254 + 1);
    }

    @Override
    public String assign(Pod pod) {
        String ip = nextLoopback();
        String served = servedName(pod);
        if (served != null) {
            FakeEngine engine = new FakeEngine(vertx, ip, served, Duration.ZERO);
            setUp.accept(pod, engine);
            engines.put(pod.getMetadata().getUid(), new Running(pod, engine.startOn(ServingRenderer.servingPort(pod))));
        }
        return ip;
    }

    @Override
    public void release(Pod pod) {
        Running running = engines.remove(pod.getMetadata().getUid());
        if (running != null) {
            running.engine().close();
        }
    }

    /** The engines of the running pods that match, oldest pod first. */
    public List<FakeEngine> engines(Predicate<Pod> matches) {
        return engines.values().stream().filter(r -> matches.test(r.pod()))
                .sorted(java.util.Comparator.comparing((Running r) -> r.pod().getMetadata().getCreationTimestamp())
                        .thenComparing(r -> r.pod().getMetadata().getName()))
                .map(Running::engine).toList();
    }

    /** The engines of a ModelDeployment's running pods (by its label), oldest pod first. */
    public List<FakeEngine> engines(String namespace, String modelDeployment) {
        return engines(p -> namespace.equals(p.getMetadata().getNamespace())
                && modelDeployment.equals(labels(p).get(ApiGroup.MODEL_DEPLOYMENT_LABEL)));
    }

    /** The engine of a running pod, or null. */
    public FakeEngine engineOf(String namespace, String pod) {
        List<FakeEngine> found = engines(p -> namespace.equals(p.getMetadata().getNamespace())
                && pod.equals(p.getMetadata().getName()));
        return found.isEmpty() ? null : found.get(0);
    }

    private static Map<String, String> labels(Pod pod) {
        return pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
    }

    /** The name the pod's engine serves, from the serving contract in its environment; null when it serves none. */
    public static String servedName(Pod pod) {
        for (var c : pod.getSpec().getContainers()) {
            if (c.getEnv() != null) {
                for (var e : c.getEnv()) {
                    if (ServingContract.GPUPOOL_SERVED_MODEL_NAME.name().equals(e.getName())) {
                        return e.getValue();
                    }
                }
            }
        }
        return null;
    }
}
