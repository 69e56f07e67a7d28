package io.gpupool.gateway;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.core.gateway.dispatch.QueueLimits;
import io.gpupool.operator.Role;
import io.gpupool.tunnel.GatewayTunnels;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;

/**
 * Starts the gateway when the application runs in the gateway role, on Quarkus' Vert.x, with its metrics in the
 * application's registry (the management port's /metrics), and stops it gracefully on shutdown. Its readiness (the
 * management port's /q/health/ready) is up once the pool's caches are filled and it listens; in other roles the check
 * says nothing.
 */
@ApplicationScoped
@Readiness
public class GatewayLauncher implements HealthCheck {

    private final String role;
    private final GatewayConfig config;
    private final KubernetesClient client;
    private final Vertx vertx;
    private final MeterRegistry registry;
    private final Clock clock;
    private final Instance<GatewayRoutes> routes;
    private final Instance<RemoteUpstreams> remote;
    private volatile Gateway gateway;
    private volatile GatewayTunnels tunnels;

    @Inject
    public GatewayLauncher(@ConfigProperty(name = Role.PROPERTY, defaultValue = Role.OPERATOR) String role,
            GatewayConfig config, KubernetesClient client, Vertx vertx, MeterRegistry registry, Clock clock,
            Instance<GatewayRoutes> routes, Instance<RemoteUpstreams> remote) {
        this.role = role;
        this.config = config;
        this.client = client;
        this.vertx = vertx;
        this.registry = registry;
        this.clock = clock;
        this.routes = routes;
        this.remote = remote;
    }

    void onStart(@Observes StartupEvent start) {
        if (!Role.GATEWAY.equals(role)) {
            return;
        }
        // The agents' tunnels end here: their endpoint on the gateway's router, their replicas among the gateway's.
        tunnels = new GatewayTunnels(vertx, client, config::replicas);
        List<GatewayRoutes> mounted = new ArrayList<>(routes.stream().toList());
        mounted.add(tunnels::mount);
        gateway = Gateway.start(vertx, client, settings(config, client), registry, clock,
                remote.isResolvable() ? remote.get() : new TunnelReplicas(tunnels.registry()), mounted);
    }

    void onStop(@Observes ShutdownEvent stop) {
        Gateway g = gateway;
        if (g != null) {
            g.stop(Duration.ofSeconds(config.drainSeconds()));
        }
        if (tunnels != null) {
            tunnels.close();
        }
    }

    /** The gateway's settings, from its configuration (the operator chart's environment). */
    static GatewaySettings settings(GatewayConfig config, KubernetesClient client) {
        String namespace = config.namespace().orElseGet(client::getNamespace);
        String pod = config.podName().or(() -> Optional.ofNullable(System.getenv("HOSTNAME"))).orElse("gateway");
        return new GatewaySettings(config.host(), config.port(), config.maxBodyBytes(),
                new QueueLimits(config.maxQueuedPerOrganization(), Duration.ofSeconds(config.maxQueueWaitSeconds()),
                        Duration.ofSeconds(config.maxColdStartWaitSeconds()),
                        Duration.ofSeconds(config.loadWindowSeconds())),
                namespace, config.name(), pod + "/" + UUID.randomUUID().toString().substring(0, 8),
                Duration.ofSeconds(config.reportIntervalSeconds()), Duration.ofSeconds(config.drainSeconds()));
    }

    /** The running gateway (empty in other roles). */
    public Optional<Gateway> gateway() {
        return Optional.ofNullable(gateway);
    }

    @Override
    public HealthCheckResponse call() {
        if (!Role.GATEWAY.equals(role)) {
            return HealthCheckResponse.up("gateway (not this role)");
        }
        Gateway g = gateway;
        return g != null && g.ready() ? HealthCheckResponse.up("gateway") : HealthCheckResponse.down("gateway");
    }
}
