package io.gpupool.agent;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuNodeSpec;
import io.gpupool.api.v1alpha1.NodeConsent;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.api.v1alpha1.ServingWorkStatus;
import io.gpupool.core.discovery.GpuNodes;
import io.gpupool.core.policy.ContributorPolicy;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.status.Conditions;
import io.gpupool.operator.events.EventRecorder;
import io.gpupool.tunnel.agent.ServingEndpoints;

/**
 * The contributor agent: runs in a contributed cluster and connects out to the pool (pull-only). It
 * <ul>
 * <li>keeps one GpuNode per contributed Node in its cluster's hub namespace at the pool, described by the same
 * discovery the operator uses for its own cluster ({@link GpuNodes#specOf}); a Node that stops matching the selector,
 * or disappears, loses its GpuNode; a cordoned or not-ready one says so in the spec;</li>
 * <li>writes a heartbeat into every GpuNode's status.lastHeartbeatTime (the only field of that status it writes; the
 * pool writes the others), so the pool can tell a silent cluster from a live one;</li>
 * <li>pulls ServingWork from the hub namespace, checks it against the contributor's policy, runs it as Deployments and
 * Services in its serving namespace, and reports readiness (or the refusal) in the work's status.</li>
 * </ul>
 * Everything is level-triggered: informer events (both clusters) and a timer request one sync, which compares what is
 * with what should be and fixes the difference. Names are deterministic, so a sync after a lost connection finds what
 * it made before instead of making it twice; and while the hub is unreachable the agent keeps running what it has and
 * only removes work it has seen removed.
 */
public final class ContributorAgent implements AutoCloseable {

    public static final String MANAGED_BY = "gpupool-agent";
    /** The agent's ServiceAccount in its hub namespace at the pool (ContributedClusterReconciler.AGENT). */
    static final String AGENT_SERVICE_ACCOUNT = "gpupool-agent";
    public static final String WORK_NAME_ANNOTATION = "gpupool.io/work-name";
    public static final String APPLIED_HASH_ANNOTATION = "gpupool.io/applied-hash";
    public static final String APPLIED = "Applied";
    public static final String POLICY_VIOLATION = "PolicyViolation";
    public static final String APPLY_FAILED = "ApplyFailed";
    public static final String WAITING_FOR_CREDENTIALS = "WaitingForCredentials";

    private static final Logger LOG = Logger.getLogger(ContributorAgent.class);
    private static final KubernetesSerialization JSON = new KubernetesSerialization();

    private final KubernetesClient local;
    private final RenewedToken hubToken;
    private final Optional<String> tokenSecret;
    private final KubernetesClient hub;
    private final AgentSettings settings;
    private final Clock clock;
    /** Events in the contributor's cluster (about its serving namespace). */
    private final EventRecorder events;
    private final String hubNamespace;
    private final ScheduledExecutorService loop;
    private final AtomicBoolean queued = new AtomicBoolean();
    private SharedIndexInformer<Node> nodes;
    private SharedIndexInformer<Deployment> deployments;
    private SharedIndexInformer<Service> services;
    private SharedIndexInformer<Pod> pods;
    private SharedIndexInformer<Secret> mirror;
    private volatile SharedIndexInformer<GpuNode> gpuNodes;
    private volatile SharedIndexInformer<ServingWork> works;
    private volatile SharedIndexInformer<Secret> credentials;
    private volatile Instant lastHeartbeat;
    private volatile boolean hubLost;
    /** Since when the pool has refused this agent's credentials (401/403); null while it accepts them. */
    private volatile Instant refusedSince;
    /** Set once the refusal outlasted the grace period: the work was scaled to zero. */
    private volatile boolean revoked;
    private volatile boolean closed;
    /** Set once {@link #start()} has built the caches that a sync reads. */
    private volatile boolean started;
    /** Set when the contributor leaves the pool (the chart is uninstalled): every node is withdrawn. */
    private volatile boolean leaving;
    /** Told after every sync: the serving pods or the work may have changed (the tunnel reports them to the pool). */
    private final List<Runnable> servingListeners = new CopyOnWriteArrayList<>();

    /**
     * @param local the contributor's cluster (Nodes, serving namespace)
     * @param hub   the pool's API server, with the credentials of this cluster's agent
     */
    public ContributorAgent(KubernetesClient local, KubernetesClient hub, AgentSettings settings, Clock clock) {
        this(local, hub, settings, clock, null, Optional.empty());
    }

    /**
     * @param token       the agent's renewable token at the pool (the hub client sends it), or null when its credentials
     *                    are not its to renew (in-cluster)
     * @param tokenSecret where to keep a renewed token in the contributor's cluster ("namespace/name")
     */
    public ContributorAgent(KubernetesClient local, KubernetesClient hub, AgentSettings settings, Clock clock,
            RenewedToken token, Optional<String> tokenSecret) {
        this.hubToken = token;
        this.tokenSecret = tokenSecret;
        this.local = local;
        this.hub = hub;
        this.settings = settings;
        this.clock = clock;
        this.events = new EventRecorder(local, clock, MANAGED_BY);
        this.hubNamespace = NodeTrust.hubNamespace(settings.cluster());
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "gpupool-agent-" + settings.cluster());
            t.setDaemon(true);
            return t;
        });
    }

    /** The Pod Security Standard the serving namespace enforces, whoever created it. */
    static final Map<String, String> RESTRICTED = Map.of("pod-security.kubernetes.io/enforce", "restricted",
            "pod-security.kubernetes.io/warn", "restricted");
    /** Event reasons on the serving namespace: its Pod Security labels were missing, or weaker and put back. */
    public static final String POD_SECURITY_RESTRICTED = "PodSecurityRestricted";
    public static final String POD_SECURITY_RESTORED = "PodSecurityRestored";

    /** Starts watching both clusters and the heartbeat; returns once the contributor's own caches are filled. */
    public void start() {
        restrictServingNamespace();
        var nodeSource = settings.nodeSelector().isEmpty() ? local.nodes() : local.nodes().withLabels(settings.nodeSelector());
        nodes = nodeSource.inform(wake(), 0);
        deployments = local.apps().deployments().inNamespace(settings.servingNamespace())
                .withLabel(RemoteWorkRenderer.WORK_LABEL).inform(wake(), 0);
        services = local.services().inNamespace(settings.servingNamespace())
                .withLabel(RemoteWorkRenderer.WORK_LABEL).inform(wake(), 0);
        pods = local.pods().inNamespace(settings.servingNamespace())
                .withLabel(RemoteWorkRenderer.WORK_LABEL).inform(wake(), 0);
        // The one Secret of the serving namespace the agent reads and writes: its copy of the pool's model credentials.
        mirror = local.secrets().inNamespace(settings.servingNamespace())
                .withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET).inform(wake(), 0);
        startHubInformers();
        // Events before this point are covered by the first tick, which runs at once.
        started = true;
        long period = settings.heartbeat().toMillis();
        loop.scheduleWithFixedDelay(this::tick, 0, period, TimeUnit.MILLISECONDS);
        LOG.infof("gpupool agent for cluster %s (organization %s) started; hub namespace %s, serving namespace %s",
                settings.cluster(), settings.organization(), hubNamespace, settings.servingNamespace());
    }

    /**
     * Watches the hub namespace. The hub may be unreachable right now (NAT, outage): these informers start in the
     * background and keep retrying.
     */
    private void startHubInformers() {
        gpuNodes = hub.resources(GpuNode.class).inNamespace(hubNamespace).runnableInformer(0);
        works = hub.resources(ServingWork.class).inNamespace(hubNamespace).runnableInformer(0);
        // The one Secret this cluster may read at the pool (by name: its Role allows nothing else).
        credentials = hub.secrets().inNamespace(hubNamespace).withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET)
                .runnableInformer(0);
        for (SharedIndexInformer<?> informer : List.of(gpuNodes, works, credentials)) {
            informer.exceptionHandler((started, t) -> {
                LOG.debugf("Pool API server: %s (retrying)", t.getMessage());
                return !closed;
            });
        }
        gpuNodes.addEventHandler(wake());
        works.addEventHandler(wake());
        credentials.addEventHandler(wake());
        // A first list that finds nothing sends no event, and the loop's first sync ran before it arrived: without
        // this, the nodes would join (and withdrawals proceed) only at the next heartbeat.
        for (SharedIndexInformer<?> informer : List.of(gpuNodes, works, credentials)) {
            informer.start().thenRun(this::requestSync);
        }
    }

    /**
     * After the pool was unreachable, read everything again instead of trusting a resumed watch to replay what was
     * missed: until the new lists arrive nothing is removed, and afterwards the caches are exact.
     */
    private void relistHub() {
        LOG.info("The pool is reachable again; re-reading this cluster's GpuNodes and work");
        gpuNodes.stop();
        works.stop();
        credentials.stop();
        startHubInformers();
    }

    /** When a heartbeat last reached the pool, or null. */
    public Instant lastHeartbeat() {
        return lastHeartbeat;
    }

    /** Asks for a sync soon; requests that arrive while one is queued are merged into it. */
    public void requestSync() {
        if (closed || !started || !queued.compareAndSet(false, true)) {
            return;
        }
        loop.execute(() -> {
            queued.set(false);
            sync();
        });
    }

    @Override
    public void close() {
        closed = true;
        loop.shutdownNow();
        for (SharedIndexInformer<?> i : new SharedIndexInformer<?>[] { nodes, deployments, services, pods, mirror,
                gpuNodes, works, credentials }) {
            if (i != null) {
                i.stop();
            }
        }
    }

    private <T extends HasMetadata> ResourceEventHandler<T> wake() {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                requestSync();
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                requestSync();
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                requestSync();
            }
        };
    }

    /**
     * Labels the serving namespace for the restricted Pod Security Standard, whether or not the chart created it, and
     * puts the labels back at every heartbeat when someone weakened them (an admin of the contributor's cluster who set
     * {@code privileged}, say): the namespace runs other organizations' work, so what runs there is the agent's to
     * bound, not the namespace's. The agent's only right on it is to get and patch it, by name. Each change is logged
     * and recorded as an Event about the namespace (in "default", where Kubernetes keeps Events about cluster-scoped
     * objects: {@code kubectl get events -n default --field-selector involvedObject.kind=Namespace}): Normal
     * {@value #POD_SECURITY_RESTRICTED} when the labels were missing, Warning {@value #POD_SECURITY_RESTORED} with
     * the values it replaced when they said something else.
     */
    void restrictServingNamespace() {
        String name = settings.servingNamespace();
        try {
            Namespace ns = local.namespaces().withName(name).get();
            if (ns == null) {
                LOG.warnf("Serving namespace %s does not exist", name);
                return;
            }
            Map<String, String> labels = ns.getMetadata().getLabels() == null ? Map.of() : ns.getMetadata().getLabels();
            Map<String, String> replaced = new TreeMap<>();
            boolean missing = false;
            for (var wanted : new TreeMap<>(RESTRICTED).entrySet()) {
                String is = labels.get(wanted.getKey());
                if (is == null) {
                    missing = true;
                } else if (!is.equals(wanted.getValue())) {
                    replaced.put(wanted.getKey(), is);
                }
            }
            if (!missing && replaced.isEmpty()) {
                return;
            }
            // A merge patch of these labels alone: the namespace's other labels and a concurrent edit stay.
            local.namespaces().withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
                    JSON.asJson(Map.of("metadata", Map.of("labels", RESTRICTED))));
            if (replaced.isEmpty()) {
                String message = "The pool's work, from other organizations, runs in this namespace: it now enforces the "
                        + "restricted Pod Security Standard (labels pod-security.kubernetes.io/enforce and warn set to "
                        + "restricted by the gpupool agent of cluster " + settings.cluster() + ")";
                LOG.infof("Serving namespace %s: %s", name, message);
                events.normal(ns, POD_SECURITY_RESTRICTED, message);
            } else {
                StringBuilder was = new StringBuilder();
                replaced.forEach((k, v) -> was.append(was.isEmpty() ? "" : ", ").append(k).append('=').append(v));
                String message = "Set back to restricted: " + was + ". This namespace runs the pool's work from other "
                        + "organizations, which the gpupool agent of cluster " + settings.cluster() + " runs only under "
                        + "the restricted Pod Security Standard, whatever this namespace's labels say; run workloads "
                        + "that need more privileges in another namespace";
                LOG.warnf("Serving namespace %s: %s", name, message);
                events.warning(ns, POD_SECURITY_RESTORED, message);
            }
        } catch (KubernetesClientException e) {
            LOG.warnf("Could not label serving namespace %s for the restricted Pod Security Standard: %s", name,
                    e.getMessage());
        }
    }

    private void tick() {
        if (closed) {
            return;
        }
        restrictServingNamespace();
        try {
            heartbeat();
            refusedSince = null;
            if (hubToken != null) {
                hubToken.renewIfDue(hub, hubNamespace, AGENT_SERVICE_ACCOUNT, local, tokenSecret);
            }
            if (revoked) {
                revoked = false;
                LOG.warnf("The pool accepts this cluster's credentials again; running its work again");
            }
            if (hubLost) {
                hubLost = false;
                relistHub();
            }
        } catch (RuntimeException e) {
            if (refused(e)) {
                noteRefusal(e);
            } else if (!hubLost) {
                LOG.warnf("The pool's API server is unreachable (%s); running what this cluster has until it is back",
                        e.getMessage());
            }
            hubLost = true;
        }
        sync();
    }

    /** Whether the pool answered that these credentials are not (or no longer) good: 401 or 403. */
    static boolean refused(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof KubernetesClientException k && (k.getCode() == 401 || k.getCode() == 403)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The pool refuses the credentials. An outage keeps the work running (the pool is only unreachable); a refusal
     * that lasts past the grace period means the pool revoked this cluster (its ContributedCluster was deleted, its
     * token expired or was withdrawn): the work stops and the copied tokens go, until the pool accepts the agent again.
     */
    private void noteRefusal(RuntimeException e) {
        Instant now = clock.instant();
        if (refusedSince == null) {
            refusedSince = now;
            LOG.warnf("The pool refuses this cluster's credentials (%s); if it still does in %d s, the cluster's work "
                    + "stops", e.getMessage(), settings.revocationGrace().toSeconds());
        }
        if (!revoked && !now.isBefore(refusedSince.plus(settings.revocationGrace()))) {
            revoked = true;
            stopAllWork();
        }
    }

    /** Whether the pool revoked this cluster (its credentials have been refused past the grace period). */
    public boolean revoked() {
        return revoked;
    }

    /** Scales every Deployment of the pool's work to zero and deletes this cluster's copy of the model credentials. */
    private void stopAllWork() {
        LOG.errorf("The pool has refused this cluster's credentials for %d s: it revoked the cluster. Scaling the "
                + "pool's work to zero and deleting the copied model credentials", settings.revocationGrace().toSeconds());
        for (Deployment d : deployments.getStore().list()) {
            try {
                local.apps().deployments().inNamespace(settings.servingNamespace()).withName(d.getMetadata().getName())
                        .edit(live -> {
                            live.getSpec().setReplicas(0);
                            // Not what the pool asked for any more: applied again if the pool comes back.
                            if (live.getMetadata().getAnnotations() != null) {
                                live.getMetadata().getAnnotations().remove(APPLIED_HASH_ANNOTATION);
                            }
                            return live;
                        });
            } catch (KubernetesClientException ex) {
                LOG.warnf("Could not scale Deployment %s to zero: %s", d.getMetadata().getName(), ex.getMessage());
            }
        }
        try {
            local.secrets().inNamespace(settings.servingNamespace()).withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET)
                    .delete();
        } catch (KubernetesClientException ex) {
            LOG.warnf("Could not delete the copied model credentials: %s", ex.getMessage());
        }
    }

    void sync() {
        if (closed) {
            return;
        }
        try {
            syncNodes();
        } catch (RuntimeException e) {
            LOG.debugf("Reporting nodes to the pool failed (will retry): %s", e.getMessage());
        }
        try {
            syncWork();
        } catch (RuntimeException e) {
            LOG.debugf("Synchronising work failed (will retry): %s", e.getMessage());
        }
        for (Runnable listener : servingListeners) {
            listener.run();
        }
    }

    /**
     * The ready serving pods of this cluster's current works, from the agent's own watches: what its tunnel to the
     * pool's gateway may reach.
     */
    public ServingEndpoints servingEndpoints() {
        return new ServingReplicas(() -> works, () -> pods, servingListeners);
    }

    // ---- nodes --------------------------------------------------------------------------------------------------

    /**
     * Withdraws every node from the pool (the contributor chart is being uninstalled): each GpuNode is marked
     * withdrawn, the pool moves the replicas elsewhere, and each GpuNode is deleted once nothing of the pool runs on its
     * node. {@link #contributesNothing()} tells when that is done. Called before {@link #start()}, the agent never
     * contributes a node at all.
     */
    public void leavePool() {
        leaving = true;
        requestSync();
    }

    /**
     * Leaves the pool and waits (blocking) until it is done: {@link #leavePool()}, then until the pool has no GpuNode of
     * this cluster left. When that takes longer than {@code timeout}, the GpuNodes are deleted anyway: the pool then
     * places their replicas elsewhere at once.
     *
     * @return true when the pool moved everything in time
     */
    public boolean leave(Duration timeout) {
        leavePool();
        Instant deadline = clock.instant().plus(timeout);
        while (!contributesNothing() && clock.instant().isBefore(deadline) && !closed) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (contributesNothing()) {
            return true;
        }
        // One by one: the agent's Role grants delete, not deletecollection.
        for (GpuNode g : gpuNodes.getStore().list()) {
            try {
                hub.resources(GpuNode.class).inNamespace(hubNamespace).withName(g.getMetadata().getName()).delete();
            } catch (KubernetesClientException e) {
                LOG.warnf("Could not delete GpuNode %s at the pool: %s", g.getMetadata().getName(), e.getMessage());
            }
        }
        return false;
    }

    /** True once the pool has no GpuNode of this cluster left (as far as the agent's current view of it goes). */
    public boolean contributesNothing() {
        return gpuNodes.hasSynced() && gpuNodes.isWatching() && gpuNodes.getStore().list().isEmpty();
    }

    /** The GpuNode specs this cluster should have at the pool, by Node name. */
    Map<String, GpuNodeSpec> desiredNodes() {
        Map<String, GpuNodeSpec> desired = new TreeMap<>();
        if (leaving) {
            return desired;
        }
        for (Node n : nodes.getStore().list()) {
            GpuNodes.specOf(n, settings.cluster(), settings.organization()).ifPresent(spec -> {
                // What this cluster's policy consents to, so that the pool places here only work it would accept.
                spec.consent = new NodeConsent(settings.policy().allowRemoteCode(), settings.policy().allowUnsafeWeights());
                desired.put(n.getMetadata().getName(), spec);
            });
        }
        return desired;
    }

    private void syncNodes() {
        if (!gpuNodes.hasSynced()) {
            return; // nothing known about the pool yet: creating blindly is harmless, deleting is not; wait
        }
        Map<String, GpuNodeSpec> desired = desiredNodes();
        Map<String, GpuNode> current = new HashMap<>();
        gpuNodes.getStore().list().forEach(g -> current.put(g.getMetadata().getName(), g));
        for (var e : desired.entrySet()) {
            GpuNode have = current.get(e.getKey());
            if (have == null) {
                createNode(e.getKey(), e.getValue());
            } else if (!GpuNodes.sameSpec(have.getSpec(), e.getValue())) {
                hub.resources(GpuNode.class).inNamespace(hubNamespace).withName(e.getKey()).edit(g -> {
                    g.setSpec(e.getValue());
                    return g;
                });
                LOG.infof("Node %s changed: ready=%s unschedulable=%s", e.getKey(), e.getValue().nodeReady,
                        e.getValue().unschedulable);
            }
        }
        Set<String> busy = nodesRunningWork();
        // Until the work is known, any node may still run some: it is withdrawn, not deleted yet.
        boolean workKnown = works.hasSynced();
        for (GpuNode have : current.values()) {
            String name = have.getMetadata().getName();
            if (desired.containsKey(name)) {
                continue;
            }
            if (busy.contains(name) || !workKnown) {
                // Leaving gracefully: the pool moves its replicas elsewhere while they still serve here.
                if (!Boolean.TRUE.equals(have.getSpec().withdrawn)) {
                    hub.resources(GpuNode.class).inNamespace(hubNamespace).withName(name).edit(g -> {
                        g.getSpec().withdrawn = true;
                        return g;
                    });
                    LOG.infof("Node %s is leaving the pool; waiting for the pool to move its replicas", name);
                }
            } else {
                hub.resources(GpuNode.class).inNamespace(hubNamespace).withName(name).delete();
                LOG.infof("Node %s left the pool", name);
            }
        }
    }

    /**
     * Nodes where serving work of the pool still runs here (pods that have not terminated) or is still wanted (a work's
     * Deployment for the node).
     */
    private Set<String> nodesRunningWork() {
        Set<String> busy = new HashSet<>();
        for (Pod p : pods.getStore().list()) {
            String node = nodeOf(p.getMetadata());
            if (node != null && !terminated(p)) {
                busy.add(node);
            }
        }
        for (ServingWork work : works.getStore().list()) {
            try {
                for (Deployment d : work.getSpec() == null ? List.<Deployment>of() : work.getSpec().deployments()) {
                    String node = nodeOf(d.getMetadata());
                    if (node != null && (d.getSpec().getReplicas() == null || d.getSpec().getReplicas() > 0)) {
                        busy.add(node);
                    }
                }
            } catch (IllegalArgumentException e) {
                // unreadable work is refused in syncWork; it runs nothing
            }
        }
        return busy;
    }

    private static String nodeOf(io.fabric8.kubernetes.api.model.ObjectMeta meta) {
        return meta.getAnnotations() == null ? null : meta.getAnnotations().get(ServingRenderer.NODE_ANNOTATION);
    }

    private static boolean terminated(Pod p) {
        String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    static boolean ready(Pod p) {
        return p.getMetadata().getDeletionTimestamp() == null && p.getStatus() != null
                && p.getStatus().getConditions() != null && p.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** Pods of one work per node, in node order. */
    private List<ServingWorkStatus.NodePods> podsByNode(ServingWork work) {
        var ref = work.getSpec() == null ? null : work.getSpec().modelDeployment;
        if (ref == null || ref.namespace == null || ref.name == null) {
            return List.of();
        }
        String hash = RemoteWorkRenderer.workHash(ref.namespace, ref.name);
        Map<String, int[]> byNode = new TreeMap<>();
        for (Pod p : pods.getStore().list()) {
            String node = nodeOf(p.getMetadata());
            if (node == null || terminated(p) || p.getMetadata().getLabels() == null
                    || !hash.equals(p.getMetadata().getLabels().get(RemoteWorkRenderer.WORK_LABEL))) {
                continue;
            }
            int[] counts = byNode.computeIfAbsent(node, k -> new int[2]);
            counts[0]++;
            if (ready(p)) {
                counts[1]++;
            }
        }
        List<ServingWorkStatus.NodePods> out = new ArrayList<>();
        byNode.forEach((node, c) -> out.add(new ServingWorkStatus.NodePods(node, c[0], c[1])));
        return out;
    }

    private void createNode(String name, GpuNodeSpec spec) {
        GpuNode node = new GpuNode();
        node.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(hubNamespace)
                .addToLabels(ApiGroup.MANAGED_BY_LABEL, MANAGED_BY)
                .addToLabels(ApiGroup.CLUSTER_LABEL, settings.cluster()).build());
        node.setSpec(spec);
        try {
            hub.resource(node).create();
            LOG.infof("Node %s joined the pool: %d x %s", name, spec.gpu.count, spec.gpu.product);
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
            hub.resources(GpuNode.class).inNamespace(hubNamespace).withName(name).edit(g -> {
                g.setSpec(spec);
                return g;
            });
        }
        beat(name, now());
    }

    /**
     * Writes status.lastHeartbeatTime of every GpuNode of this cluster (a JSON merge patch of that field only). With
     * no node to report it still asks the pool for something small, so that an outage is noticed either way.
     */
    void heartbeat() {
        if (!gpuNodes.hasSynced()) {
            hub.resources(GpuNode.class).inNamespace(hubNamespace).list(new ListOptionsBuilder().withLimit(1L).build());
            return;
        }
        String now = now();
        Set<String> desired = desiredNodes().keySet();
        boolean wrote = false;
        for (GpuNode g : gpuNodes.getStore().list()) {
            // A node that is leaving stays alive until the pool has moved its replicas: it keeps its heartbeat.
            if (desired.contains(g.getMetadata().getName()) || Boolean.TRUE.equals(g.getSpec().withdrawn)) {
                beat(g.getMetadata().getName(), now);
                wrote = true;
            }
        }
        if (!wrote) {
            hub.resources(GpuNode.class).inNamespace(hubNamespace).list(new ListOptionsBuilder().withLimit(1L).build());
        }
    }

    private void beat(String name, String now) {
        Map<String, Object> patch = Map.of("status", Map.of("lastHeartbeatTime", now));
        hub.resources(GpuNode.class).inNamespace(hubNamespace).withName(name).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), JSON.asJson(patch));
        lastHeartbeat = Instant.parse(now);
    }

    // ---- work ---------------------------------------------------------------------------------------------------

    private void syncWork() {
        if (!works.hasSynced()) {
            return; // never heard from the pool: keep whatever runs
        }
        if (revoked) {
            return; // the cached work is what a pool that revoked this cluster wanted: it stays stopped
        }
        Map<String, String> tokens = sharedTokens();
        try {
            mirrorCredentials(tokens);
        } catch (KubernetesClientException e) {
            LOG.debugf("Copying the model credentials failed (will retry): %s", e.getMessage());
        }
        Keep keep = new Keep(new HashSet<>(), new HashSet<>());
        for (ServingWork work : works.getStore().list()) {
            try {
                ServingWorkStatus next = runWork(work, keep, tokens);
                writeStatus(work, next);
            } catch (RuntimeException e) {
                LOG.debugf("Work %s: %s", work.getMetadata().getName(), e.getMessage());
            }
        }
        // Remove what the pool no longer asks for, but only on a current view of the pool: while the watch is down the
        // cache may be old, and what runs keeps running.
        if (works.isWatching()) {
            for (Deployment d : deployments.getStore().list()) {
                if (!keep.deployments().contains(d.getMetadata().getName())) {
                    local.apps().deployments().inNamespace(settings.servingNamespace())
                            .withName(d.getMetadata().getName()).delete();
                    LOG.infof("Removed Deployment %s: its work is gone or refused", d.getMetadata().getName());
                }
            }
            for (Service s : services.getStore().list()) {
                if (!keep.services().contains(s.getMetadata().getName())) {
                    local.services().inNamespace(settings.servingNamespace()).withName(s.getMetadata().getName())
                            .delete();
                }
            }
        }
    }

    /** Names of the objects in the serving namespace that current work still wants. */
    private record Keep(Set<String> deployments, Set<String> services) {
    }

    /** The tokens the pool shared with this cluster for the work it has now, by credentials key. */
    private Map<String, String> sharedTokens() {
        Secret shared = credentials.getStore().getByKey(hubNamespace + "/" + RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET);
        Map<String, String> out = new TreeMap<>();
        if (shared == null || shared.getData() == null) {
            return out;
        }
        for (ServingWork work : works.getStore().list()) {
            String key = work.getSpec() == null ? null : work.getSpec().credentialsKey;
            if (key != null && shared.getData().get(key) != null) {
                out.put(key, shared.getData().get(key));
            }
        }
        return out;
    }

    /**
     * Keeps the serving namespace's copy of the credentials equal to the tokens of the current work. On an old view of
     * the pool (its watch is down) nothing is removed: a restarting replica still finds its token.
     */
    private void mirrorCredentials(Map<String, String> tokens) {
        Secret live = mirror.getStore().getByKey(settings.servingNamespace() + "/"
                + RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET);
        Map<String, String> data = new TreeMap<>(tokens);
        if (!works.isWatching() && live != null && live.getData() != null) {
            live.getData().forEach(data::putIfAbsent);
        }
        var resource = local.secrets().inNamespace(settings.servingNamespace())
                .withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET);
        if (live == null) {
            if (!data.isEmpty()) {
                local.resource(new SecretBuilder().withNewMetadata().withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET)
                        .withNamespace(settings.servingNamespace())
                        .addToLabels(ApiGroup.MANAGED_BY_LABEL, MANAGED_BY).endMetadata()
                        .withType("Opaque").withData(data).build()).create();
            }
        } else if (data.isEmpty()) {
            resource.delete();
        } else if (!data.equals(live.getData() == null ? Map.of() : new TreeMap<>(live.getData()))) {
            resource.edit(s -> {
                s.setData(data);
                return s;
            });
        }
    }

    /** Applies one work (or refuses it) and returns the status it should report. */
    private ServingWorkStatus runWork(ServingWork work, Keep keep, Map<String, String> tokens) {
        String workName = work.getMetadata().getName();
        List<Deployment> wanted;
        Service service;
        try {
            wanted = work.getSpec() == null ? List.of() : work.getSpec().deployments();
            service = work.getSpec() == null ? null : work.getSpec().service();
        } catch (IllegalArgumentException e) {
            return status(work, 0, false, "InvalidWork", "The work's objects cannot be read: " + e.getMessage());
        }
        String credentialsKey = work.getSpec() == null ? null : work.getSpec().credentialsKey;
        Set<ContributorPolicy.SecretKey> readable = credentialsKey == null ? Set.of()
                : Set.of(new ContributorPolicy.SecretKey(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET, credentialsKey));
        List<String> violations = new ArrayList<>();
        for (Deployment d : wanted) {
            violations.addAll(settings.policy().violations(d, readable));
        }
        if (service != null) {
            violations.addAll(settings.policy().violations(service));
        }
        if (!violations.isEmpty()) {
            return status(work, 0, false, POLICY_VIOLATION, "Refused by the contributor's policy: "
                    + String.join(" ", violations));
        }
        if (credentialsKey != null && !tokens.containsKey(credentialsKey)) {
            // Nothing new starts without its token; what runs already keeps running.
            for (Deployment d : wanted) {
                keep.deployments().add(d.getMetadata().getName());
            }
            if (service != null) {
                keep.services().add(service.getMetadata().getName());
            }
            return status(work, 0, false, WAITING_FOR_CREDENTIALS, "The model needs a Hugging Face token that the "
                    + "pool has not shared with this cluster (yet): the ModelDeployment's namespace must let the "
                    + "pool's operator read its token Secret.");
        }
        String failure = null;
        int ready = 0;
        int replicas = 0;
        for (Deployment d : wanted) {
            Deployment desired = prepare(d, workName);
            String name = desired.getMetadata().getName();
            keep.deployments().add(name);
            int want = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
            replicas += want;
            try {
                apply(desired, deployments.getStore().getByKey(settings.servingNamespace() + "/" + name));
            } catch (KubernetesClientException e) {
                failure = "Deployment " + name + ": " + e.getMessage();
            }
            Deployment live = deployments.getStore().getByKey(settings.servingNamespace() + "/" + name);
            if (live != null && live.getStatus() != null && live.getStatus().getReadyReplicas() != null) {
                ready += Math.min(live.getStatus().getReadyReplicas(), want);
            }
        }
        if (service != null) {
            Service desired = prepare(service, workName);
            keep.services().add(desired.getMetadata().getName());
            try {
                apply(desired, services.getStore().getByKey(settings.servingNamespace() + "/"
                        + desired.getMetadata().getName()));
            } catch (KubernetesClientException e) {
                failure = "Service " + desired.getMetadata().getName() + ": " + e.getMessage();
            }
        }
        if (failure != null) {
            return status(work, ready, false, APPLY_FAILED, failure);
        }
        ServingWorkStatus next = status(work, ready, true, APPLIED, "Running " + wanted.size() + " Deployment(s) with "
                + replicas + " replica(s) in namespace " + settings.servingNamespace() + ".");
        next.conditions = Conditions.set(next.conditions, Conditions.READY, ready >= replicas,
                ready >= replicas ? "AllReplicasReady" : "ReplicasNotReady",
                ready + " of " + replicas + " replica(s) ready.", work.getMetadata().getGeneration(), clock);
        return next;
    }

    /** The object as it runs here: in the serving namespace, marked with its work and the hash of what was applied. */
    private <T extends HasMetadata> T prepare(T object, String workName) {
        object.getMetadata().setNamespace(settings.servingNamespace());
        object.getMetadata().setResourceVersion(null);
        Map<String, String> annotations = object.getMetadata().getAnnotations() == null ? new LinkedHashMap<>()
                : new LinkedHashMap<>(object.getMetadata().getAnnotations());
        annotations.remove(APPLIED_HASH_ANNOTATION);
        annotations.put(WORK_NAME_ANNOTATION, workName);
        object.getMetadata().setAnnotations(annotations);
        String hash = ServingRenderer.shortHash(JSON.asJson(object));
        annotations.put(APPLIED_HASH_ANNOTATION, hash);
        return object;
    }

    private <T extends HasMetadata> void apply(T desired, T live) {
        String hash = desired.getMetadata().getAnnotations().get(APPLIED_HASH_ANNOTATION);
        if (live == null) {
            try {
                local.resource(desired).create();
                LOG.infof("Created %s %s", desired.getKind(), desired.getMetadata().getName());
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e;
                }
                live = local.resource(desired).get();
                if (live == null) {
                    throw e;
                }
            }
        }
        String liveHash = live.getMetadata().getAnnotations() == null ? null
                : live.getMetadata().getAnnotations().get(APPLIED_HASH_ANNOTATION);
        if (!hash.equals(liveHash)) {
            desired.getMetadata().setResourceVersion(live.getMetadata().getResourceVersion());
            local.resource(desired).update();
            LOG.infof("Updated %s %s", desired.getKind(), desired.getMetadata().getName());
        }
    }

    private ServingWorkStatus status(ServingWork work, int ready, boolean applied, String reason, String message) {
        ServingWorkStatus previous = work.getStatus() == null ? new ServingWorkStatus() : work.getStatus();
        ServingWorkStatus next = new ServingWorkStatus();
        next.readyReplicas = ready;
        next.nodes = podsByNode(work);
        next.observedGeneration = work.getMetadata().getGeneration();
        next.conditions = Conditions.set(previous.conditions, APPLIED, applied, reason, message,
                work.getMetadata().getGeneration(), clock);
        if (!applied) {
            next.conditions = Conditions.set(next.conditions, Conditions.READY, false, reason,
                    "Nothing runs for this work here.", work.getMetadata().getGeneration(), clock);
        }
        return next;
    }

    private void writeStatus(ServingWork work, ServingWorkStatus next) {
        ServingWorkStatus previous = work.getStatus();
        if (previous != null && Objects.equals(previous.readyReplicas, next.readyReplicas)
                && Objects.equals(previous.nodes, next.nodes)
                && Objects.equals(previous.observedGeneration, next.observedGeneration)
                && Objects.equals(previous.conditions, next.conditions)) {
            return;
        }
        // The agent is the only writer of a work's status: it replaces it whole (a JSON patch, so lists are replaced,
        // not merged).
        hub.resources(ServingWork.class).inNamespace(hubNamespace).withName(work.getMetadata().getName())
                .subresource("status").patch(PatchContext.of(PatchType.JSON),
                        JSON.asJson(List.of(Map.of("op", "add", "path", "/status", "value", next))));
    }

    private String now() {
        return Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
