package io.gpupool.gateway;

import java.util.Optional;

import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.gateway.upstream.Upstream;

/**
 * Replicas on contributed clusters, reached through the tunnels their agents open to the gateway. The gateway finds
 * them in ServingWork status (hub namespaces gpupool-cluster-&lt;cluster&gt;) and asks this for a way to reach them.
 */
public interface RemoteUpstreams {

    /** No tunnel: replicas on contributed clusters are not reachable from this gateway. */
    RemoteUpstreams NONE = new RemoteUpstreams() {
        @Override
        public Optional<Upstream> upstream(String cluster, ServingWork work) {
            return Optional.empty();
        }

        @Override
        public void onChange(Runnable listener) {
        }
    };

    /**
     * The way to the ready replicas of a ServingWork (the agent forwards to the work's Service), or empty when that
     * cluster's agent has no tunnel open to this gateway.
     */
    Optional<Upstream> upstream(String cluster, ServingWork work);

    /** Tells the gateway when tunnels open or close, so that it looks again. */
    void onChange(Runnable listener);
}
