package io.gpupool.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.core.policy.ContributorPolicy;
import io.gpupool.operator.Role;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.StartupEvent;

/**
 * Starts the contributor agent when the application runs in the agent role: its own cluster through the injected
 * client, the pool through the kubeconfig the pool admin handed out (or the same cluster when none is configured).
 */
@ApplicationScoped
public class AgentLauncher {

    private static final Logger LOG = Logger.getLogger(AgentLauncher.class);

    private final String role;
    private final AgentConfig config;
    private final KubernetesClient local;
    private final Clock clock;
    private volatile ContributorAgent agent;
    private KubernetesClient hub;

    @Inject
    public AgentLauncher(@ConfigProperty(name = Role.PROPERTY, defaultValue = Role.OPERATOR) String role,
            AgentConfig config, KubernetesClient local, Clock clock) {
        this.role = role;
        this.config = config;
        this.local = local;
        this.clock = clock;
    }

    void onStart(@Observes StartupEvent start) {
        if (!Role.AGENT.equals(role)) {
            return;
        }
        AgentSettings settings = new AgentSettings(config.organization().orElse(null), config.cluster().orElse(null),
                AgentSettings.parseSelector(config.nodeSelector().orElse("")), config.servingNamespace(),
                Duration.ofSeconds(config.heartbeatIntervalSeconds()),
                new ContributorPolicy(config.policy().allowedImages().orElse(List.of()),
                        config.policy().allowPrivileged(), config.policy().allowHostPath()));
        hub = config.hubKubeconfig().map(AgentLauncher::hubClient).orElse(local);
        LOG.infof("Role agent: contributing cluster %s to the pool at %s", settings.cluster(),
                hub.getConfiguration().getMasterUrl());
        if (config.leavePool()) {
            stopRunningAgent();
        }
        ContributorAgent a = new ContributorAgent(local, hub, settings, clock);
        a.start();
        agent = a;
        if (config.leavePool()) {
            Thread leaving = new Thread(() -> {
                boolean graceful = a.leave(Duration.ofSeconds(config.leaveTimeoutSeconds()));
                LOG.infof("Cluster %s left the pool%s", settings.cluster(), graceful ? ""
                        : " without waiting any longer: the pool places the remaining replicas elsewhere at once");
                Quarkus.asyncExit(0);
            }, "gpupool-agent-leave");
            leaving.start();
        }
    }

    /**
     * Stops the agent that runs the contribution (scale to 0), so that while this one withdraws the nodes, the other
     * does not contribute them again.
     */
    private void stopRunningAgent() {
        config.agentDeployment().ifPresent(ref -> {
            int slash = ref.indexOf('/');
            if (slash <= 0) {
                throw new IllegalArgumentException("gpupool.agent.agent-deployment must be namespace/name, got " + ref);
            }
            var deployment = local.apps().deployments().inNamespace(ref.substring(0, slash))
                    .withName(ref.substring(slash + 1));
            if (deployment.get() != null) {
                deployment.scale(0);
                LOG.infof("Stopped the running agent %s before leaving the pool", ref);
            }
        });
    }

    /** The running agent (empty in the operator role, and until it has started). */
    public Optional<ContributorAgent> agent() {
        return Optional.ofNullable(agent);
    }

    static KubernetesClient hubClient(String kubeconfigPath) {
        try {
            Config fromFile = Config.fromKubeconfig(Files.readString(Path.of(kubeconfigPath)));
            // The pool is across the internet: fail a request fast and let the agent's loop retry, rather than block it.
            Config config = new ConfigBuilder(fromFile).withRequestRetryBackoffLimit(1).withConnectionTimeout(10_000)
                    .withRequestTimeout(30_000).build();
            return new KubernetesClientBuilder().withConfig(config).build();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the pool's kubeconfig " + kubeconfigPath, e);
        }
    }

    @PreDestroy
    void stop() {
        if (agent != null) {
            agent.close();
        }
        if (hub != null && hub != local) {
            hub.close();
        }
    }
}
