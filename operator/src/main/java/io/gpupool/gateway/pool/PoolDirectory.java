package io.gpupool.gateway.pool;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ApiKey;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.gateway.ModelCatalog;
import io.gpupool.core.gateway.dispatch.ReplicaSpec;
import io.gpupool.core.gateway.metering.UsageCounts;
import io.gpupool.core.inventory.Membership;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.inventory.ServingPods;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.gateway.RemoteUpstreams;
import io.gpupool.gateway.direct.DirectUpstreams;

/**
 * The pool as the gateway sees it, from watches only (informers, no polling): models and who may call them, API keys
 * by hash, organizations' weights, and the replicas of every model: the pool's own serving pods (those the operator's
 * Deployments made, {@link ServingPods}; ready, by pod IP and serving port) and contributed clusters' ready work, as
 * their agents report it through their tunnels (through {@link RemoteUpstreams}). Any event leads to one
 * coalesced rebuild of an immutable {@link PoolSnapshot} on the directory's own thread; readers take the latest.
 */
public final class PoolDirectory implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PoolDirectory.class);
    public static final String LOCAL_CLUSTER = NodeTrust.LOCAL_CLUSTER;

    private final KubernetesClient client;
    private final DirectUpstreams direct;
    private final RemoteUpstreams remote;
    private final Consumer<PoolSnapshot> listener;
    private final ExecutorService refresher = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "gpupool-gateway-directory");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean queued = new AtomicBoolean();
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
    private SharedIndexInformer<ModelDeployment> models;
    private SharedIndexInformer<Pod> pods;
    private SharedIndexInformer<ServingWork> works;
    private SharedIndexInformer<ApiKey> keys;
    private SharedIndexInformer<Organization> organizations;
    private volatile PoolSnapshot snapshot = PoolSnapshot.EMPTY;
    private volatile boolean started;

    /** @param listener gets every new snapshot, on the directory's thread */
    public PoolDirectory(KubernetesClient client, DirectUpstreams direct, RemoteUpstreams remote,
            Consumer<PoolSnapshot> listener) {
        this.client = client;
        this.direct = direct;
        this.remote = remote;
        this.listener = listener;
    }

    /** Starts the watches; returns once every cache is filled and the first snapshot is built. */
    public void start() {
        ResourceEventHandler<Object> wake = new ResourceEventHandler<>() {
            @Override
            public void onAdd(Object o) {
                requestRefresh();
            }

            @Override
            public void onUpdate(Object before, Object after) {
                requestRefresh();
            }

            @Override
            public void onDelete(Object o, boolean unknown) {
                requestRefresh();
            }
        };
        models = track(client.resources(ModelDeployment.class).inAnyNamespace().runnableInformer(0));
        pods = track(client.pods().inAnyNamespace()
                .withLabel(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                .withLabel("app.kubernetes.io/component", "model-server").runnableInformer(0));
        works = track(client.resources(ServingWork.class).inAnyNamespace()
                .withLabel(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY).runnableInformer(0));
        keys = track(client.resources(ApiKey.class).inAnyNamespace().runnableInformer(0));
        organizations = track(client.resources(Organization.class).runnableInformer(0));
        for (SharedIndexInformer<?> i : informers) {
            @SuppressWarnings({ "unchecked", "rawtypes" })
            SharedIndexInformer<Object> any = (SharedIndexInformer) i;
            any.addEventHandler(wake);
        }
        remote.onChange(this::requestRefresh);
        informers.forEach(i -> i.start().toCompletableFuture().join());
        started = true;
        try {
            refresher.submit(this::refresh).get();
        } catch (Exception e) {
            throw new IllegalStateException("Could not build the gateway's first view of the pool", e);
        }
    }

    private <T> SharedIndexInformer<T> track(SharedIndexInformer<T> informer) {
        informers.add(informer);
        return informer;
    }

    public PoolSnapshot snapshot() {
        return snapshot;
    }

    /** Every ApiKey that exists (with a hash or not yet). */
    public Set<UsageCounts.KeyRef> keyRefs() {
        Set<UsageCounts.KeyRef> out = new HashSet<>();
        for (ApiKey k : keys.getStore().list()) {
            out.add(new UsageCounts.KeyRef(k.getMetadata().getNamespace(), k.getMetadata().getName()));
        }
        return out;
    }

    /** Whether every watch has its first list and a snapshot was built. */
    public boolean ready() {
        return started && informers.stream().allMatch(SharedIndexInformer::hasSynced);
    }

    /** Asks for a rebuild soon; requests that arrive while one is queued are merged into it. */
    public void requestRefresh() {
        if (!started || !queued.compareAndSet(false, true)) {
            return;
        }
        refresher.execute(() -> {
            queued.set(false);
            refresh();
        });
    }

    private void refresh() {
        try {
            PoolSnapshot next = build();
            snapshot = next;
            listener.accept(next);
        } catch (RuntimeException e) {
            LOG.warn("Could not rebuild the gateway's view of the pool; the next change tries again", e);
        }
    }

    private PoolSnapshot build() {
        // Whose each namespace is: the pool's one rule (Organizations list their namespaces; labels mean nothing).
        Membership owners = Membership.of(organizations.getStore().list());
        Map<String, Double> weights = new HashMap<>();
        for (Organization org : organizations.getStore().list()) {
            weights.put(org.getMetadata().getName(), PoolInputs.quota(org).weight());
        }
        ModelCatalog catalog = ModelCatalog.of(models.getStore().list(), organizations.getStore().list());

        Map<String, PoolSnapshot.KeyEntry> byHash = new HashMap<>();
        for (ApiKey k : keys.getStore().list()) {
            if (k.getStatus() == null || k.getStatus().keyHash == null || k.getMetadata().getDeletionTimestamp() != null) {
                continue;
            }
            Instant expires = k.getSpec() == null ? null : PoolInputs.parseTime(k.getSpec().expiresAt);
            if (k.getSpec() != null && k.getSpec().expiresAt != null && expires == null) {
                continue; // an expiry that cannot be read: refused rather than taken as 'never'
            }
            String ns = k.getMetadata().getNamespace();
            byHash.put(k.getStatus().keyHash, new PoolSnapshot.KeyEntry(ns, k.getMetadata().getName(), expires,
                    owners.organizationOf(ns).orElse(null)));
        }

        Map<String, List<ReplicaSpec>> replicas = new HashMap<>();
        Map<String, Integer> reachable = new HashMap<>();
        catalog.all().forEach(m -> reachable.put(m.id(), 0));
        Set<String> addresses = new HashSet<>();
        for (Pod pod : pods.getStore().list()) {
            // Labels are the pod creator's word, and a tenant may create pods: only a pod of the operator's own
            // Deployment for its ModelDeployment, bound to the node it was placed on, is a replica (the rule the
            // scheduler's books follow, ServingPods). A forged one gets no request, nor anybody's prompt.
            var claim = ServingPods.claim(pod);
            if (claim.isEmpty() || !ready(pod)) {
                continue;
            }
            String ns = pod.getMetadata().getNamespace();
            var model = catalog.byId(ns, claim.get().workload().name());
            if (model.isEmpty()) {
                continue;
            }
            String ip = pod.getStatus().getPodIP();
            int port = ServingRenderer.servingPort(pod);
            addresses.add(ip + ":" + port);
            replicas.computeIfAbsent(model.get().id(), k -> new ArrayList<>()).add(new ReplicaSpec(
                    LOCAL_CLUSTER + "/" + ns + "/" + pod.getMetadata().getName(), LOCAL_CLUSTER,
                    model.get().maxInFlightPerReplica(), direct.of(ip, port)));
            reachable.merge(model.get().id(), 1, Integer::sum);
        }
        direct.retain(addresses);
        for (ServingWork work : works.getStore().list()) {
            var labels = work.getMetadata().getLabels();
            String cluster = labels.get(ApiGroup.CLUSTER_LABEL);
            // Only work where the pool puts it: the hub namespace of the cluster it names.
            if (cluster == null || !NodeTrust.hubNamespace(cluster).equals(work.getMetadata().getNamespace())) {
                continue;
            }
            var model = catalog.byId(labels.get(RemoteWorkRenderer.MD_NAMESPACE_LABEL),
                    labels.get(ApiGroup.MODEL_DEPLOYMENT_LABEL));
            if (model.isEmpty()) {
                continue;
            }
            // The replicas the cluster's agent reports ready through its tunnel to this gateway.
            for (RemoteUpstreams.Remote r : remote.replicas(cluster, work)) {
                replicas.computeIfAbsent(model.get().id(), k -> new ArrayList<>()).add(new ReplicaSpec(r.id(),
                        cluster, model.get().maxInFlightPerReplica(), r.upstream()));
                reachable.merge(model.get().id(), 1, Integer::sum);
            }
        }
        return new PoolSnapshot(catalog, Map.copyOf(byHash), Map.copyOf(weights), replicas, Map.copyOf(reachable));
    }

    /** Serving, as the endpoints controller would say: ready, an IP, not being deleted. */
    static boolean ready(Pod pod) {
        if (pod.getMetadata().getDeletionTimestamp() != null || pod.getStatus() == null
                || pod.getStatus().getPodIP() == null || pod.getStatus().getPodIP().isEmpty()
                || pod.getStatus().getConditions() == null) {
            return false;
        }
        return pod.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    @Override
    public void close() {
        started = false;
        informers.forEach(SharedIndexInformer::close);
        refresher.shutdownNow();
    }
}
