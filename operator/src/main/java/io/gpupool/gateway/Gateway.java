package io.gpupool.gateway;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.core.gateway.metering.UsageMeter;
import io.gpupool.gateway.direct.DirectUpstreams;
import io.gpupool.gateway.http.GatewayServer;
import io.gpupool.gateway.http.Proxy;
import io.gpupool.gateway.metering.GatewayMetrics;
import io.gpupool.gateway.metering.ReportWriter;
import io.gpupool.gateway.pool.PoolDirectory;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

/**
 * The pool's gateway, assembled: the directory (watches), one dispatcher per model, the proxy and its HTTP server, the
 * direct upstreams and the report writer. The gateway role starts one ({@link GatewayLauncher}); tests and the
 * playground start as many as they like against one API server. It keeps no state of its own but its meter's
 * counts, which it writes to its report slot.
 */
public final class Gateway implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Gateway.class);

    private final GatewaySettings settings;
    private final DirectUpstreams direct;
    private final PoolDirectory directory;
    private final ModelDispatchers dispatchers;
    private final UsageMeter meter;
    private final Proxy proxy;
    private final GatewayServer server;
    private final ReportWriter reports;
    private final Vertx vertx;
    private volatile boolean closed;
    private volatile java.util.Map<String, Integer> lastReach = java.util.Map.of();

    private Gateway(Vertx vertx, KubernetesClient client, GatewaySettings settings, MeterRegistry registry, Clock clock,
            RemoteUpstreams remote, List<GatewayRoutes> routes) {
        this.vertx = vertx;
        this.settings = settings;
        GatewayMetrics metrics = new GatewayMetrics(registry);
        this.meter = new UsageMeter();
        this.direct = new DirectUpstreams(vertx);
        this.dispatchers = new ModelDispatchers(clock, settings.queue(), metrics, Proxy::granted);
        this.directory = new PoolDirectory(client, direct, remote, this::applied);
        this.proxy = new Proxy(vertx, directory, dispatchers, meter, metrics, settings, clock);
        this.server = new GatewayServer(vertx, settings.host(), settings.port(), proxy, routes);
        this.reports = new ReportWriter(client, meter, settings, clock, directory::keyRefs,
                () -> dispatchers.report(directory.snapshot().reachable()));
        // A request held for a first replica: the operator learns of it from the report written now, not in an interval.
        this.dispatchers.onHold(reports::changed);
    }

    /** A new view of the pool: dispatchers get their replicas; the report says what is reachable when that changed. */
    private void applied(io.gpupool.gateway.pool.PoolSnapshot snapshot) {
        dispatchers.apply(snapshot);
        java.util.Map<String, Integer> reach = snapshot.reachable();
        if (!reach.equals(lastReach)) {
            lastReach = reach;
            if (reports != null) {
                reports.changed();
            }
        }
    }

    /** Starts watching the pool, then serving; returns once it answers. */
    public static Gateway start(Vertx vertx, KubernetesClient client, GatewaySettings settings, MeterRegistry registry,
            Clock clock, RemoteUpstreams remote, List<GatewayRoutes> routes) {
        Gateway g = new Gateway(vertx, client, settings, registry, clock, remote, routes);
        g.directory.start();
        int port = g.server.start(Math.max(1, Runtime.getRuntime().availableProcessors()));
        g.reports.start();
        LOG.infof("gpupool gateway %s serves the OpenAI API on %s:%d", settings.instance(), settings.host(), port);
        return g;
    }

    public int port() {
        return server.port();
    }

    /** The base URL of the OpenAI API (…/v1) as this process serves it. */
    public String url() {
        String host = "0.0.0.0".equals(settings.host()) ? "127.0.0.1" : settings.host();
        return "http://" + host + ":" + port() + "/v1";
    }

    public boolean ready() {
        return !closed && directory.ready();
    }

    public PoolDirectory directory() {
        return directory;
    }

    public ModelDispatchers dispatchers() {
        return dispatchers;
    }

    public UsageMeter meter() {
        return meter;
    }

    public ReportWriter reports() {
        return reports;
    }

    /**
     * Stops gracefully: new requests are refused with 503 (clients retry elsewhere), requests under way get up to the
     * drain time to finish, the last counts are written and the report slot released.
     */
    public void stop(Duration drain) {
        if (closed) {
            return;
        }
        closed = true;
        proxy.stopAccepting();
        long deadline = System.nanoTime() + drain.toNanos();
        while (proxy.active() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (proxy.active() > 0) {
            LOG.warnf("Gateway stopping with %d request(s) still under way", proxy.active());
        }
        server.close();
        reports.close();
        directory.close();
        direct.close();
    }

    @Override
    public void close() {
        stop(settings.drain());
    }
}
