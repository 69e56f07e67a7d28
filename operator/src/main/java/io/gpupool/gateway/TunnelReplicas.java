package io.gpupool.gateway;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.gateway.upstream.Upstream;
import io.gpupool.tunnel.RemoteReplica;
import io.gpupool.tunnel.TunnelRegistry;

/**
 * The gateway's remote replicas are the tunnel's: each serving pod an agent reports ready, for work the pool placed
 * on its cluster, is one replica with its own upstream (so that slots, prefix affinity and retries treat it as they
 * treat a pod of the pool's own cluster).
 */
public final class TunnelReplicas implements RemoteUpstreams {

    private final TunnelRegistry tunnels;
    /** One upstream per remote pod, kept while it is reported (the upstream finds the pod's tunnel per request). */
    private final Map<RemoteReplica, Upstream> upstreams = new ConcurrentHashMap<>();

    /** @param tunnels the agents' open tunnels ({@code GatewayTunnels.registry()} in the gateway role) */
    public TunnelReplicas(TunnelRegistry tunnels) {
        this.tunnels = tunnels;
    }

    @Override
    public List<Remote> replicas(String cluster, ServingWork work) {
        List<RemoteReplica> reached = tunnels.replicas(cluster, work.getMetadata().getName());
        return reached.stream().map(r -> new Remote(r.cluster() + "/" + r.work() + "/" + r.pod(),
                upstreams.computeIfAbsent(r, k -> tunnels.upstream(k)))).toList();
    }

    @Override
    public void onChange(Runnable listener) {
        tunnels.onChange(() -> {
            // Forget the upstreams of pods no agent reports any more.
            upstreams.keySet().retainAll(tunnels.replicas());
            listener.run();
        });
    }
}
