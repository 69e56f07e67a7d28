package io.gpupool.tunnel.agent;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.gpupool.tunnel.Frame;
import io.gpupool.tunnel.TunnelServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.PemTrustOptions;

/**
 * The agent's side of the tunnel: it dials out to the pool's gateway (nothing listens in the contributor's cluster),
 * authenticates with the agent's hub token, read anew at every connection and sent again whenever it changes (hub
 * credentials rotate), and keeps one tunnel to each gateway replica behind the gateway's URL (the gateway says how many
 * there are; dials that land on a replica already connected are closed), reconnecting with exponential backoff and
 * jitter after any loss. Requests arriving through any tunnel go to the ready serving pods of the cluster's current
 * works ({@link ServingEndpoints}), whose list it reports to the pool whenever it changes.
 */
public final class TunnelClient implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TunnelClient.class);

    /**
     * @param gateway     the gateway's base URL (http, https, ws or wss); the tunnel is at {@link TunnelServer#PATH}
     * @param cluster     this cluster's name at the pool
     * @param token       the agent's current hub token, read when called (never cached here)
     * @param caFile      PEM file of the CA that signed the gateway's certificate, when not a public one
     * @param minBackoff  first delay before reconnecting
     * @param maxBackoff  longest delay before reconnecting
     * @param keepalive   how often the agent pings; three silent periods close the tunnel
     */
    public record Settings(URI gateway, String cluster, Supplier<String> token, Optional<String> caFile,
            Duration minBackoff, Duration maxBackoff, Duration keepalive) {

        public static Settings of(URI gateway, String cluster, Supplier<String> token, Optional<String> caFile) {
            return new Settings(gateway, cluster, token, caFile, Duration.ofSeconds(1), Duration.ofSeconds(30),
                    Duration.ofSeconds(15));
        }
    }

    private final Vertx vertx;
    private final Settings settings;
    private final ServingEndpoints endpoints;
    private final WebSocketClient dialer;
    private final HttpClient engines;
    /** Open tunnels by gateway replica id. */
    private final Map<String, AgentTunnel> tunnels = new ConcurrentHashMap<>();
    private volatile int gateways = 1;
    private volatile boolean dialing;
    private volatile boolean closed;
    private volatile String lastRefusal;
    private volatile String sentToken;
    /** What the tunnels were last told (each new tunnel is told at once). */
    private volatile Map<String, List<ServingEndpoints.Endpoint>> advertised = Map.of();
    private int failures;
    private long timer = -1;
    private long keepaliveTimer = -1;

    public TunnelClient(Vertx vertx, Settings settings, ServingEndpoints endpoints) {
        this.vertx = vertx;
        this.settings = settings;
        this.endpoints = endpoints;
        URI uri = settings.gateway();
        boolean tls = "https".equals(uri.getScheme()) || "wss".equals(uri.getScheme());
        WebSocketClientOptions ws = new WebSocketClientOptions().setSsl(tls).setConnectTimeout(10_000)
                .setMaxFrameSize(65536).setMaxMessageSize(4 * 65536);
        settings.caFile().ifPresent(ca -> ws.setTrustOptions(new PemTrustOptions().addCertPath(ca)));
        this.dialer = vertx.createWebSocketClient(ws);
        // The engines: HTTP/1.1 with keep-alive; no idle timeout (a model may think a while between two chunks).
        this.engines = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5_000).setKeepAlive(true)
                .setIdleTimeout(0), new PoolOptions().setHttp1MaxSize(256));
    }

    /** Starts dialing; returns at once. */
    public void start() {
        endpoints.onChange(() -> vertx.runOnContext(v -> advertiseAll()));
        long ping = settings.keepalive().toMillis();
        keepaliveTimer = vertx.setPeriodic(ping, ping, t -> keepalive());
        vertx.runOnContext(v -> dial());
        LOG.infof("Tunnel: cluster %s dials the pool's gateway at %s", settings.cluster(), settings.gateway());
    }

    /** Gateway replicas this agent has a tunnel to. */
    public int connectedGateways() {
        return tunnels.size();
    }

    /** How many gateway replicas the gateway said there are. */
    public int gateways() {
        return gateways;
    }

    private void dial() {
        synchronized (this) {
            if (closed || dialing || tunnels.size() >= gateways) {
                return;
            }
            dialing = true;
        }
        String token;
        try {
            token = settings.token().get();
        } catch (RuntimeException e) {
            dialing = false;
            retry("cannot read the hub token: " + e.getMessage());
            return;
        }
        URI uri = settings.gateway();
        boolean tls = "https".equals(uri.getScheme()) || "wss".equals(uri.getScheme());
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
        String base = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost(uri.getHost()).setPort(port)
                .setSsl(tls).setURI(base + TunnelServer.PATH)
                .addHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token)
                .addHeader(TunnelServer.CLUSTER_HEADER, settings.cluster());
        dialer.connect(options).onComplete(ar -> {
            synchronized (this) {
                dialing = false;
            }
            if (ar.failed()) {
                retry(reason(ar.cause()));
            } else if (closed) {
                ar.result().close();
            } else {
                opened(ar.result(), token);
            }
        });
    }

    private void opened(WebSocket ws, String token) {
        AgentTunnel[] self = new AgentTunnel[1];
        AgentTunnel tunnel = new AgentTunnel(ws, settings.cluster(), engines, hello -> greeted(self[0], hello));
        self[0] = tunnel;
        sentToken = token;
        ws.closeHandler(v -> {
            tunnel.onClosed();
            Frame.Hello hello = tunnel.hello();
            if (hello != null && tunnels.remove(hello.gateway(), tunnel)) {
                String why = ws.closeStatusCode() == null ? "connection lost"
                        : ws.closeStatusCode() + (ws.closeReason() == null ? "" : ": " + ws.closeReason());
                LOG.warnf("Tunnel to gateway %s closed (%s); reconnecting", hello.gateway(), why);
                retry("tunnel closed");
            }
        });
    }

    private synchronized void greeted(AgentTunnel tunnel, Frame.Hello hello) {
        gateways = Math.max(1, hello.gateways());
        if (tunnels.putIfAbsent(hello.gateway(), tunnel) != null) {
            // The load balancer sent this dial to a gateway replica that has a tunnel already: try again shortly.
            tunnel.webSocket().close((short) 1000, "already connected to this gateway");
            retry(null);
            return;
        }
        failures = 0;
        lastRefusal = null;
        LOG.infof("Tunnel open to gateway %s (%d of %d gateway replica(s))", hello.gateway(), tunnels.size(),
                gateways);
        tunnel.advertise(endpoints.ready());
        vertx.runOnContext(v -> dial());
    }

    /** Schedules the next dial after a backoff that grows with consecutive failures (full jitter). */
    private synchronized void retry(String reason) {
        if (closed) {
            return;
        }
        if (reason != null) {
            failures++;
            if (!reason.equals(lastRefusal)) {
                LOG.warnf("Tunnel to the pool's gateway at %s: %s (retrying)", settings.gateway(), reason);
                lastRefusal = reason;
            }
        }
        long max = Math.min(settings.maxBackoff().toMillis(),
                settings.minBackoff().toMillis() << Math.min(16, Math.max(0, failures - 1)));
        long delay = Math.max(settings.minBackoff().toMillis() / 2, ThreadLocalRandom.current().nextLong(max + 1));
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        timer = vertx.setTimer(delay, t -> {
            timer = -1;
            dial();
        });
    }

    private static String reason(Throwable e) {
        if (e instanceof UpgradeRejectedException rejected) {
            Buffer body = rejected.getBody();
            return "the gateway refused the tunnel (HTTP " + rejected.getStatus() + ")"
                    + (body == null || body.length() == 0 ? "" : ": " + body);
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /** Pings every tunnel, closes silent ones, sends the token again when it changed, and fills missing tunnels. */
    private void keepalive() {
        String token = null;
        try {
            token = settings.token().get();
        } catch (RuntimeException e) {
            LOG.debugf("Tunnel: cannot read the hub token: %s", e.getMessage());
        }
        boolean rotated = token != null && !Objects.equals(token, sentToken);
        long limit = 3 * settings.keepalive().toNanos();
        for (AgentTunnel t : List.copyOf(tunnels.values())) {
            if (t.silentNanos() > limit) {
                LOG.warnf("Tunnel to gateway %s silent for %d s; closing it", t.hello().gateway(),
                        t.silentNanos() / 1_000_000_000L);
                t.webSocket().close((short) 1001, "no keepalive");
                continue;
            }
            t.webSocket().writePing(Buffer.buffer());
            if (rotated) {
                t.sendCredentials(token);
            }
        }
        if (rotated) {
            sentToken = token;
        }
        dial();
    }

    private void advertiseAll() {
        var ready = endpoints.ready();
        if (ready.equals(advertised)) {
            return;
        }
        advertised = ready;
        for (AgentTunnel t : tunnels.values()) {
            t.advertise(ready);
        }
    }

    @Override
    public void close() {
        closed = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (keepaliveTimer >= 0) {
            vertx.cancelTimer(keepaliveTimer);
        }
        for (AgentTunnel t : tunnels.values()) {
            t.webSocket().close((short) 1001, "agent stopping");
        }
        tunnels.clear();
        dialer.close();
        engines.close();
    }
}
