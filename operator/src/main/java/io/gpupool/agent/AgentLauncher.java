package io.gpupool.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.core.policy.ContributorPolicy;
import io.gpupool.operator.Role;
import io.gpupool.tunnel.agent.TunnelClient;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;

/**
 * Starts the contributor agent when the application runs in the agent role: its own cluster through the injected
 * client, the pool through the kubeconfig the pool admin handed out (or the same cluster when none is configured).
 */
@ApplicationScoped
public class AgentLauncher {

    private static final Logger LOG = Logger.getLogger(AgentLauncher.class);
    /** How long the uninstall hook waits for the running agent to stop before leaving anyway. */
    static final Duration RUNNING_AGENT_STOP_TIMEOUT = Duration.ofSeconds(60);

    private final String role;
    private final AgentConfig config;
    private final KubernetesClient local;
    private final Clock clock;
    private final Vertx vertx;
    private volatile ContributorAgent agent;
    private KubernetesClient hub;
    private volatile RenewedToken hubToken;
    private TunnelClient tunnel;

    @Inject
    public AgentLauncher(@ConfigProperty(name = Role.PROPERTY, defaultValue = Role.OPERATOR) String role,
            AgentConfig config, KubernetesClient local, Clock clock, Vertx vertx) {
        this.role = role;
        this.vertx = vertx;
        this.config = config;
        this.local = local;
        this.clock = clock;
    }

    void onStart(@Observes StartupEvent start) {
        if (!Role.AGENT.equals(role)) {
            return;
        }
        AgentSettings settings = settings(config);
        hubToken = config.hubKubeconfig().map(path -> startingToken(path, config.tokenSecret(), local, clock))
                .orElse(null);
        hub = config.hubKubeconfig().map(path -> hubClient(path, hubToken)).orElse(local);
        LOG.infof("Role agent: contributing cluster %s to the pool at %s", settings.cluster(),
                hub.getConfiguration().getMasterUrl());
        ContributorAgent a = new ContributorAgent(local, hub, settings, clock, hubToken, config.tokenSecret());
        agent = a;
        if (!config.leavePool()) {
            a.start();
            config.gatewayUrl().ifPresent(url -> {
                tunnel = new TunnelClient(vertx, TunnelClient.Settings.of(URI.create(url), settings.cluster(),
                        hubToken != null ? hubToken : new HubToken(config.hubKubeconfig()), config.gatewayCaFile()),
                        a.servingEndpoints());
                tunnel.start();
            });
            return;
        }
        Thread leaving = new Thread(() -> {
            try {
                boolean graceful = leavePool(config, local, a);
                LOG.infof("Cluster %s left the pool%s", settings.cluster(), graceful ? ""
                        : " without waiting any longer: the pool places the remaining replicas elsewhere at once");
                Quarkus.asyncExit(0);
            } catch (RuntimeException e) {
                // Fail the uninstall hook (and so `helm uninstall`) with the reason, rather than hang until its deadline.
                LOG.errorf(e, "Cluster %s could not leave the pool", settings.cluster());
                Quarkus.asyncExit(1);
            }
        }, "gpupool-agent-leave");
        leaving.start();
    }

    /** The agent's settings, from its configuration (the contributor chart's environment). */
    public static AgentSettings settings(AgentConfig config) {
        return new AgentSettings(config.organization().orElse(null), config.cluster().orElse(null),
                AgentSettings.parseSelector(config.nodeSelector().orElse("")), config.servingNamespace(),
                Duration.ofSeconds(config.heartbeatIntervalSeconds()),
                new ContributorPolicy(config.policy().allowedImages().orElse(List.of()),
                        config.policy().allowPrivileged(), config.policy().allowHostPath(),
                        config.policy().allowRemoteCode(), config.policy().allowUnsafeWeights(),
                        config.policy().allowedPriorityClasses().orElse(List.of())),
                Duration.ofSeconds(config.revocationGraceSeconds()));
    }

    /**
     * What the contributor chart's uninstall hook runs: stops the agent that runs the contribution, then withdraws
     * every node with {@code leaving} (an agent not started yet) and waits for the pool, at most
     * {@link AgentConfig#leaveTimeoutSeconds()}.
     *
     * @param local the contributor's cluster, as the agent's ServiceAccount
     * @return true when the pool moved every replica in time
     */
    public static boolean leavePool(AgentConfig config, KubernetesClient local, ContributorAgent leaving) {
        stopRunningAgent(config, local);
        // Leaving from its very first sync: when the hook runs again (a retried Job), nodes that already left are not
        // contributed again for a moment, and withdrawn ones are not put back.
        leaving.leavePool();
        leaving.start();
        return leaving.leave(Duration.ofSeconds(config.leaveTimeoutSeconds()));
    }

    /**
     * Stops the agent that runs the contribution (scale to 0) and waits until its Deployment reports no replica:
     * meanwhile it would contribute the nodes again (it still selects them, so it puts back {@code withdrawn=false}).
     * The Deployment controller reports 0 as soon as the pod is being deleted, so a dying agent may still undo a
     * withdrawal for a moment; the leaving agent marks the node again when it sees that.
     */
    static void stopRunningAgent(AgentConfig config, KubernetesClient local) {
        config.agentDeployment().ifPresent(ref -> {
            int slash = ref.indexOf('/');
            if (slash <= 0) {
                throw new IllegalArgumentException("gpupool.agent.agent-deployment must be namespace/name, got " + ref);
            }
            var deployment = local.apps().deployments().inNamespace(ref.substring(0, slash))
                    .withName(ref.substring(slash + 1));
            if (deployment.get() == null) {
                return;
            }
            deployment.scale(0);
            // Polled: the leave Role grants get on that one Deployment, not watch.
            Instant deadline = Instant.now().plus(RUNNING_AGENT_STOP_TIMEOUT);
            while (!stopped(deployment.get()) && Instant.now().isBefore(deadline)) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (stopped(deployment.get())) {
                LOG.infof("Stopped the running agent %s before leaving the pool", ref);
            } else {
                LOG.warnf("The running agent %s still runs after %d s; leaving the pool anyway", ref,
                        RUNNING_AGENT_STOP_TIMEOUT.toSeconds());
            }
        });
    }

    /** Gone, or scaled to 0 and reported so by the Deployment controller. */
    private static boolean stopped(Deployment d) {
        if (d == null) {
            return true;
        }
        var status = d.getStatus();
        return d.getSpec().getReplicas() != null && d.getSpec().getReplicas() == 0 && status != null
                && status.getObservedGeneration() != null
                && status.getObservedGeneration() >= d.getMetadata().getGeneration()
                && (status.getReplicas() == null || status.getReplicas() == 0);
    }

    /** The running agent (empty in the operator role, and until it has started). */
    public Optional<ContributorAgent> agent() {
        return Optional.ofNullable(agent);
    }

    /**
     * The agent's credentials at the pool (the agent renews them): the newer of the kubeconfig's token and the one it
     * stored last. The gateway tunnel authenticates with {@link #hubToken()} too, read again at each connection.
     */
    static RenewedToken startingToken(String kubeconfigPath, Optional<String> tokenSecret, KubernetesClient local,
            Clock clock) {
        return RenewedToken.starting(RenewedToken.of(kubeconfig(kubeconfigPath)),
                tokenSecret.flatMap(ref -> RenewedToken.stored(local, ref)), clock);
    }

    /** A client of the pool that sends the current token with every request. */
    static KubernetesClient hubClient(String kubeconfigPath, RenewedToken token) {
        // The pool is across the internet: fail a request fast and let the agent's loop retry, rather than block it.
        Config config = new ConfigBuilder(kubeconfig(kubeconfigPath)).withRequestRetryBackoffLimit(1)
                .withConnectionTimeout(10_000).withRequestTimeout(30_000).withOauthToken(null).withAutoOAuthToken(null)
                .withOauthTokenProvider(token).build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    private static Config kubeconfig(String path) {
        try {
            return Config.fromKubeconfig(Files.readString(Path.of(path)));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the pool's kubeconfig " + path, e);
        }
    }

    /** The agent's current credentials at the pool; empty when the pool is this cluster (in-cluster credentials). */
    public Optional<RenewedToken> hubToken() {
        return Optional.ofNullable(hubToken);
    }

    @PreDestroy
    void stop() {
        if (tunnel != null) {
            tunnel.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (hub != null && hub != local) {
            hub.close();
        }
    }
}
