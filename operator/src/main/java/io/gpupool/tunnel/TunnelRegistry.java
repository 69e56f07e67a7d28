package io.gpupool.tunnel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiPredicate;

import org.jboss.logging.Logger;

import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.gateway.upstream.Upstream;

/**
 * The tunnels open to this gateway, by contributed cluster, and the replicas reachable through them: what each agent
 * reports as ready, for the works the pool really gave that cluster (a ServingWork in its hub namespace). An agent can
 * only speak for its own cluster; a work it claims that the pool did not place there is not reachable.
 *
 * <p>Listeners hear of every change (a tunnel opened or closed, an agent's replicas changed). They run on a Vert.x
 * event loop and must not block. The ServingWork side changes without notice here: whoever watches ServingWork (the
 * gateway) asks again when it changes.
 */
public final class TunnelRegistry {

    private static final Logger LOG = Logger.getLogger(TunnelRegistry.class);

    /** Open tunnels per cluster, newest first (a reconnecting agent briefly has two). */
    private final Map<String, CopyOnWriteArrayList<TunnelConnection>> tunnels = new ConcurrentHashMap<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final BiPredicate<String, String> placedAtPool;

    /**
     * @param placedAtPool whether the pool placed a work on a cluster: {@code (cluster, work)} → a ServingWork of that
     *                     name exists in the cluster's hub namespace (e.g. {@link HubServingWorks})
     */
    public TunnelRegistry(BiPredicate<String, String> placedAtPool) {
        this.placedAtPool = placedAtPool;
    }

    /** Contributed clusters with an open tunnel to this gateway. */
    public Set<String> clusters() {
        Set<String> out = new TreeSet<>();
        tunnels.forEach((cluster, list) -> {
            if (!list.isEmpty()) {
                out.add(cluster);
            }
        });
        return out;
    }

    public boolean connected(String cluster) {
        var list = tunnels.get(cluster);
        return list != null && !list.isEmpty();
    }

    /** The reachable replicas of one work of one cluster. */
    public List<RemoteReplica> replicas(String cluster, String work) {
        var list = tunnels.get(cluster);
        if (list == null || list.isEmpty() || !placedAtPool.test(cluster, work)) {
            return List.of();
        }
        List<String> pods = list.get(0).replicas().getOrDefault(work, List.of());
        return pods.stream().map(pod -> new RemoteReplica(cluster, work, pod)).toList();
    }

    /** The reachable replicas of a ModelDeployment, on every contributed cluster with a tunnel here. */
    public List<RemoteReplica> replicasOf(String modelNamespace, String modelName) {
        String work = RemoteWorkRenderer.workName(modelNamespace, modelName);
        List<RemoteReplica> out = new ArrayList<>();
        for (String cluster : clusters()) {
            out.addAll(replicas(cluster, work));
        }
        return out;
    }

    /** Every reachable replica. */
    public List<RemoteReplica> replicas() {
        List<RemoteReplica> out = new ArrayList<>();
        for (String cluster : clusters()) {
            for (String work : tunnels.get(cluster).stream().findFirst().map(t -> t.replicas().keySet())
                    .orElse(Set.of())) {
                out.addAll(replicas(cluster, work));
            }
        }
        return out;
    }

    /**
     * The way to one remote replica. It finds the cluster's tunnel at every request, so it outlives reconnects; while
     * there is none, requests fail with {@link io.gpupool.gateway.upstream.UpstreamUnavailableException}.
     */
    public Upstream upstream(RemoteReplica replica) {
        return new TunnelUpstream(this, replica);
    }

    /**
     * The way to all reachable replicas of one work of one cluster, as one upstream (for a gateway that routes to a
     * work rather than to its pods): each request goes to the replica with the fewest requests under way. Empty while
     * none is reachable.
     */
    public Optional<Upstream> upstream(String cluster, String work) {
        return replicas(cluster, work).isEmpty() ? Optional.empty() : Optional.of(new WorkUpstream(this, cluster, work));
    }

    /** Hears of every change; returns a handle that stops listening. */
    public AutoCloseable onChange(Runnable listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** The newest open tunnel of the replica's cluster that reports it, else the newest at all. */
    Optional<TunnelConnection> tunnelFor(RemoteReplica replica) {
        var list = tunnels.get(replica.cluster());
        if (list == null) {
            return Optional.empty();
        }
        TunnelConnection any = null;
        for (TunnelConnection t : list) {
            if (!t.isOpen()) {
                continue;
            }
            if (t.replicas().getOrDefault(replica.work(), List.of()).contains(replica.pod())) {
                return Optional.of(t);
            }
            if (any == null) {
                any = t;
            }
        }
        return Optional.ofNullable(any);
    }

    boolean placedAtPool(String cluster, String work) {
        return placedAtPool.test(cluster, work);
    }

    void add(TunnelConnection tunnel) {
        tunnels.computeIfAbsent(tunnel.cluster(), c -> new CopyOnWriteArrayList<>()).add(0, tunnel);
        changed();
    }

    void remove(TunnelConnection tunnel) {
        var list = tunnels.get(tunnel.cluster());
        if (list != null && list.remove(tunnel)) {
            changed();
        }
    }

    void changed() {
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                LOG.warnf(e, "A tunnel registry listener failed");
            }
        }
    }
}
