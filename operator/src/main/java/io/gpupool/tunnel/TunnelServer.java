package io.gpupool.tunnel;

import java.time.Duration;
import java.util.UUID;
import java.util.function.IntSupplier;

import org.jboss.logging.Logger;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * The pool's end of the agents' tunnels: a WebSocket endpoint on the gateway's HTTP server ({@link #mount}), so the
 * tunnel uses the gateway's port, TLS and Ingress, and a contributor opens no port at all. An agent connects with
 * {@code Authorization: Bearer <its hub token>} and {@value #CLUSTER_HEADER}: {@code <its cluster>}; the
 * {@link TunnelAuthenticator} decides before the upgrade (a refusal is an HTTP 400, 401 or 403 with a JSON message);
 * accepted tunnels go into the {@link TunnelRegistry}.
 *
 * <p>Why a WebSocket: it rides the gateway's HTTP/1.1 listener and any Ingress or load balancer in front of it (gRPC
 * would need HTTP/2 end to end), and the few frames the tunnel needs ({@link Frame}) multiplex many requests over it
 * with a window per stream.
 */
public final class TunnelServer {

    public static final String PATH = "/tunnel/v1";
    public static final String CLUSTER_HEADER = "Gpupool-Cluster";

    private static final Logger LOG = Logger.getLogger(TunnelServer.class);

    /**
     * @param gateways        how many gateway replicas serve the tunnel URL: each agent keeps one tunnel to each
     * @param window          response bytes an agent may send ahead of what the gateway's client consumed, per request
     * @param keepalive       how often each end pings; three silent periods close the tunnel
     * @param reauthorization how often an open tunnel's credentials are checked again at the API server
     */
    public record Settings(IntSupplier gateways, int window, Duration keepalive, Duration reauthorization) {

        public static final int DEFAULT_WINDOW = 256 * 1024;

        public static Settings defaults(IntSupplier gateways) {
            return new Settings(gateways, DEFAULT_WINDOW, Duration.ofSeconds(15), Duration.ofSeconds(60));
        }
    }

    private final Vertx vertx;
    private final TunnelAuthenticator authenticator;
    private final TunnelRegistry registry;
    private final Settings settings;
    private final String id = UUID.randomUUID().toString();

    public TunnelServer(Vertx vertx, TunnelAuthenticator authenticator, TunnelRegistry registry, Settings settings) {
        this.vertx = vertx;
        this.authenticator = authenticator;
        this.registry = registry;
        this.settings = settings;
    }

    /** Serves the tunnel endpoint ({@value #PATH}) on the gateway's router. */
    public TunnelServer mount(Router router) {
        router.get(PATH).handler(ctx -> accept(ctx.request()));
        return this;
    }

    public TunnelRegistry registry() {
        return registry;
    }

    /** This gateway replica's id, new at every start; the agent tells replicas apart by it. */
    public String id() {
        return id;
    }

    /** Authenticates an agent's upgrade request, then upgrades it to a tunnel. */
    public void accept(HttpServerRequest request) {
        String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
        String cluster = request.getHeader(CLUSTER_HEADER);
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            refuse(request, new TunnelRefusedException(401, "A tunnel needs the agent's hub token "
                    + "(Authorization: Bearer)."));
            return;
        }
        if (cluster == null) {
            refuse(request, new TunnelRefusedException(400, "A tunnel needs the agent's cluster (" + CLUSTER_HEADER
                    + " header)."));
            return;
        }
        String token = authorization.substring(7).trim();
        request.pause();
        vertx.<AgentIdentity>executeBlocking(() -> authenticator.authenticate(token, cluster), false)
                .onSuccess(identity -> request.toWebSocket()
                        .onSuccess(ws -> new TunnelConnection(vertx, ws, identity, token, settings, authenticator,
                                registry).open(new Frame.Hello(id, Math.max(1, settings.gateways().getAsInt()))))
                        .onFailure(e -> LOG.warnf("Tunnel of %s: upgrade failed: %s", cluster, e.getMessage())))
                .onFailure(e -> {
                    if (e instanceof TunnelRefusedException refused) {
                        LOG.infof("Tunnel refused for cluster %s: %s", cluster, refused.getMessage());
                        refuse(request, refused);
                    } else {
                        LOG.warnf(e, "Tunnel of %s: cannot check its credentials", cluster);
                        refuse(request, new TunnelRefusedException(503, "The pool cannot check credentials right "
                                + "now: " + e.getMessage()));
                    }
                });
    }

    private static void refuse(HttpServerRequest request, TunnelRefusedException refused) {
        request.resume();
        request.response().setStatusCode(refused.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(new JsonObject().put("error", new JsonObject().put("message", refused.getMessage())
                        .put("type", refused.status() == 401 ? "authentication_error" : "permission_error"))
                        .encode());
    }
}
