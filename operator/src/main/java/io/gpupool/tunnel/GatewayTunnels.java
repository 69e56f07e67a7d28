package io.gpupool.tunnel;

import java.util.Optional;
import java.util.function.IntSupplier;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.gateway.upstream.Upstream;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/**
 * The tunnel in the gateway role, assembled: the endpoint agents dial ({@link #mount}), their authentication at the
 * pool's API server, the ServingWorks the pool placed, and the registry of open tunnels. The gateway mounts it on its
 * router and asks it for the way to a contributed cluster's work ({@link #upstream}) or replica
 * ({@link TunnelRegistry#upstream(RemoteReplica)}), looking again when {@link #onChange} says so.
 *
 * <p>The gateway's ServiceAccount needs {@code system:auth-delegator} (TokenReview and SubjectAccessReview) and list
 * and watch on ServingWorks.
 */
public final class GatewayTunnels implements AutoCloseable {

    private final HubServingWorks works;
    private final TunnelRegistry registry;
    private final TunnelServer server;

    /**
     * Watches the pool's ServingWorks (returns once they are listed).
     *
     * @param gateways how many gateway replicas serve the tunnel's URL (agents keep one tunnel to each)
     */
    public GatewayTunnels(Vertx vertx, KubernetesClient client, IntSupplier gateways) {
        this(vertx, client, TunnelServer.Settings.defaults(gateways));
    }

    /** With the tunnel's timing of one's own (tests: a short keepalive and reauthorization). */
    public GatewayTunnels(Vertx vertx, KubernetesClient client, TunnelServer.Settings settings) {
        this.works = new HubServingWorks(client);
        this.registry = new TunnelRegistry(works);
        this.server = new TunnelServer(vertx, new KubernetesTunnelAuthenticator(client), registry, settings);
    }

    /** Serves the agents' endpoint ({@value TunnelServer#PATH}) on the gateway's router. */
    public void mount(Router router) {
        server.mount(router);
    }

    /** The way to the reachable replicas of a ServingWork of a cluster, or empty while none is reachable. */
    public Optional<Upstream> upstream(String cluster, String work) {
        return registry.upstream(cluster, work);
    }

    /** Hears of tunnels opening and closing, and of agents' replicas changing (on an event loop: do not block). */
    public void onChange(Runnable listener) {
        registry.onChange(listener);
    }

    public TunnelRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        works.close();
    }
}
