package io.gpupool.tunnel;

import java.util.Comparator;
import java.util.List;

import io.gpupool.gateway.upstream.Upstream;
import io.gpupool.gateway.upstream.UpstreamRequest;
import io.gpupool.gateway.upstream.UpstreamResponse;
import io.gpupool.gateway.upstream.UpstreamUnavailableException;
import io.vertx.core.Future;

/**
 * All reachable replicas of one work of a contributed cluster behind one upstream: each request goes to the replica
 * with the fewest requests under way through this gateway (ties to the first by name), as the agents report them at
 * the moment of sending.
 */
final class WorkUpstream implements Upstream {

    private final TunnelRegistry registry;
    private final String cluster;
    private final String work;

    WorkUpstream(TunnelRegistry registry, String cluster, String work) {
        this.registry = registry;
        this.cluster = cluster;
        this.work = work;
    }

    @Override
    public Future<UpstreamResponse> send(UpstreamRequest request) {
        List<RemoteReplica> replicas = registry.replicas(cluster, work);
        var tunnel = replicas.isEmpty() ? null : registry.tunnelFor(replicas.get(0)).orElse(null);
        if (tunnel == null) {
            return Future.failedFuture(new UpstreamUnavailableException(describe() + ": no replica is reachable"));
        }
        RemoteReplica least = replicas.stream().min(Comparator.comparingInt(r -> tunnel.inFlight(r.pod()))).get();
        return tunnel.send(least, request);
    }

    @Override
    public String describe() {
        return cluster + "/" + work;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WorkUpstream u && u.registry == registry && u.cluster.equals(cluster)
                && u.work.equals(work);
    }

    @Override
    public int hashCode() {
        return cluster.hashCode() * 31 + work.hashCode();
    }

    @Override
    public String toString() {
        return describe();
    }
}
