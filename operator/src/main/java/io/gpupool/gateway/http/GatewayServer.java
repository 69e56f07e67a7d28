package io.gpupool.gateway.http;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.gpupool.gateway.GatewayRoutes;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/**
 * The gateway's HTTP server: one listener per event loop on the same port (Vert.x spreads connections over them), a
 * Vert.x Web router with the OpenAI routes and whatever else is mounted (the tunnel's endpoint for agents).
 */
public final class GatewayServer implements AutoCloseable {

    private static final java.util.concurrent.atomic.AtomicInteger RANDOM_PORTS = new java.util.concurrent.atomic.AtomicInteger();

    private final Vertx vertx;
    private final String host;
    private final int requestedPort;
    private final Router router;
    private final List<String> deployments = new ArrayList<>();
    private int port;

    public GatewayServer(Vertx vertx, String host, int port, Proxy proxy, List<GatewayRoutes> contributions) {
        this.vertx = vertx;
        this.host = host;
        this.requestedPort = port;
        this.router = Router.router(vertx);
        contributions.forEach(c -> c.mount(router));
        proxy.mount(router);
    }

    /** Listens; returns the port (the one asked for, or the one chosen when 0 was asked for). */
    public int start(int listeners) {
        try {
            // Listeners of one deployment share their port; a random one (asked for as 0) is shared when asked for
            // as a negative port (Vert.x: servers of one Vert.x listening on the same negative port share one random
            // port), a number of this server's own: two gateways on one Vert.x must not share theirs.
            port = deploy(requestedPort == 0 ? RANDOM_PORTS.decrementAndGet() : requestedPort, listeners);
            return port;
        } catch (Exception e) {
            throw new IllegalStateException("The gateway could not listen on " + host + ":" + requestedPort + ": "
                    + e.getMessage(), e);
        }
    }

    private int deploy(int onPort, int instances) throws Exception {
        java.util.Set<Integer> bound = java.util.concurrent.ConcurrentHashMap.newKeySet();
        String id = vertx.deployVerticle(() -> new AbstractVerticle() {
            private HttpServer server;

            @Override
            public void start(Promise<Void> started) {
                server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(onPort)
                        .setTcpNoDelay(true).setIdleTimeout(0).setCompressionSupported(false)
                        // No h2c upgrade of an HTTP/1.1 request: clients get HTTP/1.1, or HTTP/2 with prior knowledge.
                        .setHttp2ClearTextEnabled(false));
                server.requestHandler(router).listen().onSuccess(s -> {
                    bound.add(s.actualPort());
                    started.complete();
                }).onFailure(started::fail);
            }
        }, new DeploymentOptions().setInstances(instances)).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        deployments.add(id);
        if (bound.size() != 1) {
            throw new IllegalStateException("the listeners did not share one port: " + bound);
        }
        return bound.iterator().next();
    }

    public int port() {
        return port;
    }

    /** Stops listening and closes the connections. */
    @Override
    public void close() {
        for (String id : deployments) {
            try {
                vertx.undeploy(id).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // already gone
            }
        }
        deployments.clear();
    }
}
