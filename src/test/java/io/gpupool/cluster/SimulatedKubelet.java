package io.gpupool.cluster;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;

/**
 * The one simulated part of the {@link ControlPlane}: the kubelets of every Node in the cluster. For each node that is
 * not stopped it renews the node's Lease in kube-node-lease (the heartbeat kube-controller-manager's node lifecycle
 * controller watches), and it runs the pods the real kube-scheduler binds there: a bound pod is Running at once with
 * an IP from the {@link PodNetwork}, Ready after the load delay (the model "loads"; no engine runs); a pod being
 * deleted drains for the drain time, bounded by its grace period, and is then confirmed gone (deleted with grace 0,
 * as a kubelet does); a pod that runs to completion (restartPolicy Never or OnFailure, e.g. a Job's) Succeeds after
 * the load delay.
 *
 * <p>A stopped node's kubelet is dead: no heartbeat (the node turns NotReady after the controller manager's grace
 * period), and its pods stay as they are, also those being deleted (Terminating), until it starts again.
 */
public final class SimulatedKubelet implements AutoCloseable {

    public static final String NODE_LEASE_NAMESPACE = "kube-node-lease";
    private static final DateTimeFormatter MICRO_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'");

    /** How pods behave on the simulated nodes. */
    public record Settings(Duration loadDelay, Duration drain, Duration heartbeat, PodNetwork network) {

        /** Ready 1 s after start, drained 0.5 s after deletion, a heartbeat every 2 s, pod-CIDR addresses. */
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofSeconds(2),
                    PodNetwork.podCidr());
        }

        public Settings withLoadDelay(Duration d) {
            return new Settings(d, drain, heartbeat, network);
        }

        public Settings withDrain(Duration d) {
            return new Settings(loadDelay, d, heartbeat, network);
        }

        public Settings withNetwork(PodNetwork n) {
            return new Settings(loadDelay, drain, heartbeat, n);
        }
    }

    private enum Phase { STARTED, READY, DONE, TERMINATING }

    private final KubernetesClient client;
    private final Settings settings;
    /** Heartbeats on their own thread, so that a burst of pods never delays them into a false NotReady. */
    private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(daemon("kubelet-heartbeat"));
    /** Pod work on one thread: the state below needs no locking. */
    private final ScheduledExecutorService pods = Executors.newSingleThreadScheduledExecutor(daemon("kubelet-pods"));
    private final Set<String> stopped = ConcurrentHashMap.newKeySet();
    /** Pod uid to what this kubelet did with it (pod thread only). */
    private final Map<String, Phase> phases = new HashMap<>();
    /** Pod uid to its pod, for the addresses to release (pod thread only). */
    private final Map<String, Pod> addressed = new HashMap<>();
    /** What the containers of matching run-to-completion pods do, instead of succeeding after the load delay. */
    private final List<Program> programs = new java.util.concurrent.CopyOnWriteArrayList<>();
    private SharedIndexInformer<Node> nodeInformer;
    private SharedIndexInformer<Pod> podInformer;

    private record Program(Predicate<Pod> runs, Function<Pod, CompletionStage<Integer>> process) {
    }

    /** Networks that address the pods they match instead of the settings' network (first match wins). */
    private final List<Addressing> networks = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Pod uid to the network that gave it its address (pod thread only). */
    private final Map<String, PodNetwork> addressedBy = new HashMap<>();

    private record Addressing(Predicate<Pod> matches, PodNetwork network) {
    }

    private SimulatedKubelet(KubernetesClient client, Settings settings) {
        this.client = client;
        this.settings = settings;
    }

    /** Starts the kubelets of every Node there is and will be. */
    public static SimulatedKubelet start(KubernetesClient client, Settings settings) {
        SimulatedKubelet kubelet = new SimulatedKubelet(client, settings);
        kubelet.nodeInformer = client.nodes().inform();
        kubelet.podInformer = client.pods().inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                kubelet.later(() -> kubelet.sync(pod), 0);
            }

            @Override
            public void onUpdate(Pod before, Pod pod) {
                kubelet.later(() -> kubelet.sync(pod), 0);
            }

            @Override
            public void onDelete(Pod pod, boolean unknown) {
                kubelet.later(() -> kubelet.forget(pod), 0);
            }
        });
        long period = settings.heartbeat().toMillis();
        kubelet.heartbeats.scheduleWithFixedDelay(kubelet::heartbeat, 0, period, TimeUnit.MILLISECONDS);
        return kubelet;
    }

    public Settings settings() {
        return settings;
    }

    /**
     * A machine joins: its Node is created as the kubelet registers it, with the fixture's status (capacity, GPU labels,
     * Ready with a fresh heartbeat). An existing Node is updated. A stopped node's kubelet starts again.
     */
    public Node register(Node node) {
        stopped.remove(node.getMetadata().getName());
        Node written = registerNode(client, node);
        renewLease(node.getMetadata().getName());
        return written;
    }

    /**
     * Creates (or updates) a Node and then writes its status, as a kubelet registers its node (the API server ignores
     * the status of a create). Whichever kubelet runs, it then keeps the node alive.
     */
    public static Node registerNode(KubernetesClient client, Node node) {
        String name = node.getMetadata().getName();
        var status = node.getStatus();
        Node copy = Serialization.clone(node);
        copy.setStatus(null);
        copy.getMetadata().setResourceVersion(null);
        client.nodes().resource(copy).createOr(r -> r.update());
        if (status != null && status.getConditions() != null) {
            String now = now();
            status.getConditions().stream().filter(c -> "Ready".equals(c.getType())).forEach(c -> {
                c.setLastHeartbeatTime(now);
                c.setLastTransitionTime(now);
            });
        }
        // The node lifecycle controller (taints) and the operator may write the Node meanwhile: retry on conflict.
        for (int attempt = 1;; attempt++) {
            Node stored = client.nodes().withName(name).get();
            stored.setStatus(status);
            try {
                return client.nodes().resource(stored).updateStatus();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == 10) {
                    throw e;
                }
            }
        }
    }

    /** The node's kubelet dies: heartbeats stop, and nothing happens to its pods until {@link #startNode}. */
    public void stopNode(String name) {
        stopped.add(name);
    }

    /** The node's kubelet is back: Ready with a fresh heartbeat, and its pods are looked after again. */
    public void startNode(String name) {
        stopped.remove(name);
        Node node = client.nodes().withName(name).get();
        if (node != null) {
            List<NodeCondition> conditions = new ArrayList<>();
            String now = now();
            conditions.add(new NodeConditionBuilder().withType("Ready").withStatus("True").withReason("KubeletReady")
                    .withMessage("kubelet is posting ready status (simulated)").withLastHeartbeatTime(now)
                    .withLastTransitionTime(now).build());
            if (node.getStatus() != null && node.getStatus().getConditions() != null) {
                node.getStatus().getConditions().stream().filter(c -> !"Ready".equals(c.getType())).forEach(conditions::add);
            }
            node.getStatus().setConditions(conditions);
            client.nodes().resource(node).updateStatus();
            renewLease(name);
        }
        later(() -> podInformer.getStore().list().stream().filter(p -> name.equals(p.getSpec().getNodeName()))
                .forEach(this::sync), 0);
    }

    /**
     * From now on, a run-to-completion pod (e.g. a Job's) that matches runs this process: it Succeeds when the stage
     * completes with exit code 0 and Fails with any other, instead of succeeding after the load delay. Close the
     * returned handle to forget the process.
     */
    public AutoCloseable runs(Predicate<Pod> matches, Function<Pod, CompletionStage<Integer>> process) {
        Program program = new Program(matches, process);
        programs.add(program);
        return () -> programs.remove(program);
    }

    /**
     * From now on, pods that match get their addresses from this network (e.g. one where a fake engine answers on
     * every serving pod's address) instead of the settings' network. Close the returned handle to forget it; pods it
     * addressed still give their addresses back to it.
     */
    public AutoCloseable addresses(Predicate<Pod> matches, PodNetwork network) {
        Addressing a = new Addressing(matches, network);
        networks.add(a);
        return () -> networks.remove(a);
    }

    public boolean isRunning(String node) {
        return !stopped.contains(node);
    }

    private void heartbeat() {
        for (Node n : nodeInformer.getStore().list()) {
            String name = n.getMetadata().getName();
            if (!stopped.contains(name)) {
                try {
                    renewLease(name);
                } catch (KubernetesClientException e) {
                    // the node was deleted meanwhile, or the API server is busy: the next heartbeat tries again
                }
            }
        }
    }

    private void renewLease(String node) {
        ZonedDateTime renewed = ZonedDateTime.now(ZoneOffset.UTC);
        String now = renewed.format(MICRO_TIME);
        var leases = client.leases().inNamespace(NODE_LEASE_NAMESPACE);
        try {
            leases.withName(node).patch(PatchContext.of(PatchType.JSON_MERGE),
                    "{\"spec\":{\"renewTime\":\"" + now + "\"}}");
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
            Lease lease = new LeaseBuilder().withNewMetadata().withName(node).withNamespace(NODE_LEASE_NAMESPACE)
                    .endMetadata().withNewSpec().withHolderIdentity(node).withLeaseDurationSeconds(40)
                    .withRenewTime(renewed).endSpec().build();
            leases.resource(lease).createOr(r -> r.update());
        }
    }

    private void later(Runnable task, long delayMillis) {
        if (pods.isShutdown()) {
            return;
        }
        pods.schedule(() -> {
            try {
                task.run();
            } catch (KubernetesClientException e) {
                // The pod changed or went meanwhile: its own event brings another round.
            } catch (RuntimeException e) {
                System.err.println("[simulated-kubelet] " + e);
            }
        }, delayMillis, TimeUnit.MILLISECONDS);
    }

    /** Moves a pod on a running node one step along its life (pod thread). */
    private void sync(Pod seen) {
        Pod pod = podInformer.getStore().getByKey(seen.getMetadata().getNamespace() + "/" + seen.getMetadata().getName());
        if (pod == null || !pod.getMetadata().getUid().equals(seen.getMetadata().getUid())) {
            return;
        }
        String node = pod.getSpec().getNodeName();
        if (node == null || node.isEmpty() || stopped.contains(node)) {
            return;
        }
        String uid = pod.getMetadata().getUid();
        Phase phase = phases.get(uid);
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            if (phase != Phase.TERMINATING) {
                phases.put(uid, Phase.TERMINATING);
                long grace = pod.getMetadata().getDeletionGracePeriodSeconds() == null ? 30
                        : pod.getMetadata().getDeletionGracePeriodSeconds();
                long drain = Math.min(settings.drain().toMillis(), grace * 1000);
                later(() -> confirmGone(pod), drain);
            }
            return;
        }
        if (phase == null && !terminal(pod)) {
            phases.put(uid, Phase.STARTED);
            PodNetwork network = networks.stream().filter(a -> a.matches().test(pod)).map(Addressing::network)
                    .findFirst().orElse(settings.network());
            String ip = network.assign(pod);
            addressed.put(uid, pod);
            addressedBy.put(uid, network);
            writeStatus(pod, PodStatuses.running(pod, ip, false));
            Program program = runToCompletion(pod) ? programs.stream().filter(p -> p.runs().test(pod)).findFirst()
                    .orElse(null) : null;
            if (program == null) {
                later(() -> loaded(pod), settings.loadDelay().toMillis());
            } else {
                program.process().apply(pod).whenComplete((exit, failure) -> later(() -> exited(pod,
                        failure == null && exit != null ? exit : 1), 0));
            }
        }
    }

    /** The load delay is over: a server is Ready, a run-to-completion pod Succeeded (pod thread). */
    private void loaded(Pod started) {
        String uid = started.getMetadata().getUid();
        if (phases.get(uid) != Phase.STARTED || stopped.contains(started.getSpec().getNodeName())) {
            return; // terminating, gone, or its node died (a dead kubelet reports nothing)
        }
        Pod pod = podInformer.getStore().getByKey(started.getMetadata().getNamespace() + "/"
                + started.getMetadata().getName());
        if (pod == null || !uid.equals(pod.getMetadata().getUid())) {
            return;
        }
        String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
        if (!runToCompletion(pod)) {
            phases.put(uid, Phase.READY);
            writeStatus(pod, PodStatuses.running(pod, ip, true));
        } else {
            exited(pod, 0);
        }
    }

    /** A run-to-completion pod's process ended (pod thread). */
    private void exited(Pod started, int exitCode) {
        String uid = started.getMetadata().getUid();
        if (phases.get(uid) != Phase.STARTED || stopped.contains(started.getSpec().getNodeName())) {
            return;
        }
        Pod pod = podInformer.getStore().getByKey(started.getMetadata().getNamespace() + "/"
                + started.getMetadata().getName());
        if (pod == null || !uid.equals(pod.getMetadata().getUid())) {
            return;
        }
        phases.put(uid, Phase.DONE);
        writeStatus(pod, PodStatuses.completed(pod, pod.getStatus() == null ? null : pod.getStatus().getPodIP(),
                exitCode));
        release(uid);
    }

    private static boolean runToCompletion(Pod pod) {
        String policy = pod.getSpec().getRestartPolicy();
        return policy != null && !"Always".equals(policy);
    }

    /** The drain is over: the kubelet confirms the pod gone, unless its node died meanwhile (pod thread). */
    private void confirmGone(Pod pod) {
        if (stopped.contains(pod.getSpec().getNodeName())) {
            phases.remove(pod.getMetadata().getUid()); // it starts draining again when the node is back
            return;
        }
        client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
                .withGracePeriod(0).delete();
    }

    private void forget(Pod pod) {
        phases.remove(pod.getMetadata().getUid());
        release(pod.getMetadata().getUid());
    }

    private void release(String uid) {
        Pod addressedPod = addressed.remove(uid);
        PodNetwork network = addressedBy.remove(uid);
        if (addressedPod != null) {
            (network == null ? settings.network() : network).release(addressedPod);
        }
    }

    private static boolean terminal(Pod pod) {
        String p = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return "Succeeded".equals(p) || "Failed".equals(p);
    }

    private void writeStatus(Pod pod, PodStatus status) {
        client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
                .subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE),
                        Serialization.asJson(Map.of("status", status)));
    }

    static String now() {
        return Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public void close() {
        heartbeats.shutdownNow();
        pods.shutdownNow();
        if (podInformer != null) {
            podInformer.close();
        }
        if (nodeInformer != null) {
            nodeInformer.close();
        }
    }
}
