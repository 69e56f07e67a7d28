package io.gpupool.tunnel;

import io.gpupool.gateway.upstream.Upstream;
import io.gpupool.gateway.upstream.UpstreamRequest;
import io.gpupool.gateway.upstream.UpstreamResponse;
import io.gpupool.gateway.upstream.UpstreamUnavailableException;
import io.vertx.core.Future;

/** A replica in a contributed cluster, reached through the tunnel its agent opened to this gateway. */
final class TunnelUpstream implements Upstream {

    private final TunnelRegistry registry;
    private final RemoteReplica replica;

    TunnelUpstream(TunnelRegistry registry, RemoteReplica replica) {
        this.registry = registry;
        this.replica = replica;
    }

    @Override
    public Future<UpstreamResponse> send(UpstreamRequest request) {
        if (!registry.placedAtPool(replica.cluster(), replica.work())) {
            return Future.failedFuture(new UpstreamUnavailableException(describe() + ": the pool placed no work "
                    + replica.work() + " on cluster " + replica.cluster()));
        }
        return registry.tunnelFor(replica).map(t -> t.send(replica, request))
                .orElseGet(() -> Future.failedFuture(new UpstreamUnavailableException(describe()
                        + ": cluster " + replica.cluster() + " has no tunnel open to this gateway")));
    }

    @Override
    public String describe() {
        return replica.describe();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TunnelUpstream u && u.replica.equals(replica) && u.registry == registry;
    }

    @Override
    public int hashCode() {
        return replica.hashCode();
    }

    @Override
    public String toString() {
        return describe();
    }
}
