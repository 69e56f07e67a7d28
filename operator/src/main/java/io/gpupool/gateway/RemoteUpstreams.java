package io.gpupool.gateway;

import java.util.List;

import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.gateway.upstream.Upstream;

/**
 * Replicas on contributed clusters, reached through the tunnels their agents open to the gateway. The gateway finds
 * the work the pool placed (ServingWork in the hub namespaces gpupool-cluster-&lt;cluster&gt;) and asks this for the
 * replicas of each that it can reach now.
 */
public interface RemoteUpstreams {

    /**
     * One replica reachable through a tunnel.
     *
     * @param id       stable identity ({@code <cluster>/<work>/<pod>}), its place on the prefix ring
     * @param upstream the way to it
     */
    record Remote(String id, Upstream upstream) {
    }

    /** No tunnel: replicas on contributed clusters are not reachable from this gateway. */
    RemoteUpstreams NONE = new RemoteUpstreams() {
        @Override
        public List<Remote> replicas(String cluster, ServingWork work) {
            return List.of();
        }

        @Override
        public void onChange(Runnable listener) {
        }
    };

    /** The ready replicas of a ServingWork that this gateway reaches now (none while its cluster has no tunnel here). */
    List<Remote> replicas(String cluster, ServingWork work);

    /** Tells the gateway when tunnels open or close or their replicas change, so that it looks again. */
    void onChange(Runnable listener);
}
