package io.gpupool.apiserver;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.operator.LeaderElection;
import io.gpupool.operator.Leadership;
import io.gpupool.operator.apikey.ApiKeyReconciler;
import io.gpupool.operator.cluster.ContributedClusterReconciler;
import io.gpupool.operator.events.EventRecorder;
import io.gpupool.operator.ledger.PoolLedger;
import io.gpupool.operator.modeldeployment.ModelDeploymentReconciler;
import io.gpupool.operator.node.LocalNodeReconciler;
import io.gpupool.operator.scheduling.PoolRebalancer;
import io.gpupool.operator.scheduling.PoolScheduler;
import io.gpupool.operator.scheduling.PoolStatusPublisher;
import io.gpupool.operator.scheduling.SchedulingWiring;
import io.gpupool.operator.usage.UsageFoldReconciler;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import io.javaoperatorsdk.operator.processing.event.ResourceID;

/**
 * The gpupool operator, run in-process against the real API server with the plain JOSDK API.
 *
 * <p>Why not {@code @QuarkusTest}: a Quarkus test application is started once per profile and cannot be stopped and
 * started again inside a test, which the restart test needs, and several independent operators (admin identity, the
 * chart's ServiceAccount) are needed in one run. JOSDK reads the same annotations at run time that quarkus-operator-sdk
 * reads at build time ({@code @ControllerConfiguration}, {@code @Workflow}, the dependents'
 * {@code @KubernetesDependent} informer selectors; ModelDeployments' dependents configure themselves), so the
 * controllers are configured the same way. The CDI beans are
 * built by hand in the order CDI builds them, and the configuration is the production one: server-side apply for the
 * dependents AND for the primary resource's status and finalizer (quarkus.operator-sdk.enable-ssa=true, the default
 * outside the mock-server tests), all namespaces, generation-aware. Leader election (the prod profile's) only when
 * started with {@link #startElected}; not covered here: the metrics/health endpoints.
 */
public final class InProcessOperator implements AutoCloseable {

    private final PoolScheduler scheduler;
    private final PoolRebalancer rebalancer;
    private final PoolStatusPublisher publisher;
    private final Operator operator;
    private final ReconcileCounter reconciles;
    /** The client only this operator uses (closed by {@link #kill()}), or null when it shares the test's. */
    private final KubernetesClient ownClient;

    private InProcessOperator(PoolScheduler scheduler, PoolRebalancer rebalancer, PoolStatusPublisher publisher,
            Operator operator, ReconcileCounter reconciles, KubernetesClient ownClient) {
        this.scheduler = scheduler;
        this.rebalancer = rebalancer;
        this.publisher = publisher;
        this.operator = operator;
        this.reconciles = reconciles;
        this.ownClient = ownClient;
    }

    /** Where gateways started by tests write their usage reports (the operator folds only those). */
    public static final String GATEWAY_NAMESPACE = "gpupool-gateway";

    /** Builds the beans, registers the operator's controllers and starts (returns when the informers are synced). */
    public static InProcessOperator start(KubernetesClient client) {
        return start(client, null, Clock.systemUTC());
    }

    /** As {@link #start(KubernetesClient)}, on the given clock (the ledger integrates on it). */
    public static InProcessOperator start(KubernetesClient client, Clock clock) {
        return start(client, null, clock);
    }

    /**
     * The same, with the pool gateway's URL (ModelDeployments' endpoint, ApiKey Secrets' OPENAI_BASE_URL); its
     * reports are read in {@link #GATEWAY_NAMESPACE}.
     */
    public static InProcessOperator start(KubernetesClient client, String gatewayUrl) {
        return start(client, gatewayUrl, Clock.systemUTC());
    }

    /**
     * One replica of an operator with leader election, as the chart runs two (the prod profile: the production lease
     * name, in {@code leaseNamespace}, under {@code identity}). It reconciles only while it holds the lease; its lease
     * times are short so that a test's takeover takes seconds, and losing the lease does not exit the JVM (the test's).
     *
     * @param ownClient a client only this replica uses: {@link #kill()} closes it
     */
    public static InProcessOperator startElected(KubernetesClient ownClient, Clock clock, String identity,
            String leaseNamespace) {
        Leadership leadership = new Leadership(() -> true);
        var election = new LeaderElectionConfiguration(LeaderElection.LEASE_NAME, leaseNamespace,
                Duration.ofSeconds(6), Duration.ofSeconds(4), Duration.ofSeconds(1), identity, leadership.callbacks(),
                false);
        return start(ownClient, null, clock, leadership, election);
    }

    private static InProcessOperator start(KubernetesClient client, String gatewayUrl, Clock clock) {
        return start(client, gatewayUrl, clock, Leadership.sole(), null);
    }

    private static InProcessOperator start(KubernetesClient client, String gatewayUrl, Clock clock,
            Leadership leadership, LeaderElectionConfiguration election) {
        PoolScheduler scheduler = new PoolScheduler(new FairShareAdmission(), clock, leadership);
        PoolRebalancer rebalancer = new PoolRebalancer(scheduler, clock);
        EventRecorder events = new EventRecorder(client, clock);
        PoolLedger ledger = new PoolLedger(clock);
        PoolStatusPublisher publisher = new PoolStatusPublisher(client, clock, ledger);
        SchedulingWiring.publishStatusAfterEachCycle(scheduler, publisher);
        ReconcileCounter reconciles = new ReconcileCounter();

        Operator operator = new Operator(o -> {
            o.withKubernetesClient(client)
                    .withCloseClientOnStop(false)
                    .withUseSSAToPatchPrimaryResource(true)
                    .withSSABasedCreateUpdateMatchForDependentResources(true)
                    .withStopOnInformerErrorDuringStartup(true)
                    .withCacheSyncTimeout(Duration.ofSeconds(60))
                    .withReconciliationTerminationTimeout(Duration.ofSeconds(10))
                    .withMetrics(reconciles);
            if (election != null) {
                o.withLeaderElectionConfiguration(election);
            }
        });
        operator.register(new ModelDeploymentReconciler(scheduler, rebalancer, events, clock,
                "gpupool-operator-model-token-reader", "gpupool-system:gpupool-operator").gateway(gatewayUrl,
                        GATEWAY_NAMESPACE));
        operator.register(new ApiKeyReconciler(clock, events, java.util.Optional.ofNullable(gatewayUrl),
                java.util.Optional.of(GATEWAY_NAMESPACE)));
        operator.register(new UsageFoldReconciler(java.util.Optional.of(GATEWAY_NAMESPACE)));
        operator.register(new LocalNodeReconciler());
        // Kubeconfigs it issues point at this API server.
        operator.register(new ContributedClusterReconciler(client.getConfiguration().getMasterUrl(), clock));
        operator.start();
        return new InProcessOperator(scheduler, rebalancer, publisher, operator, reconciles,
                election == null ? null : client);
    }

    public PoolScheduler scheduler() {
        return scheduler;
    }

    /** Reconciles of ModelDeployments so far, per object. */
    public ReconcileCounter reconciles() {
        return reconciles;
    }

    /**
     * Dies as a killed process does, as far as the API server can tell: from this instant it writes nothing (its
     * client is closed: no status, no checkpoint, no lease renewal or release), then its threads are stopped.
     */
    public void kill() {
        if (ownClient == null) {
            throw new IllegalStateException("only an operator started with its own client can be killed");
        }
        ownClient.close();
        close();
    }

    @Override
    public void close() {
        try {
            operator.stop();
        } finally {
            SchedulingWiring.stop(rebalancer, publisher);
        }
    }

    /** Counts reconcile executions and failures of ModelDeployments through JOSDK's metrics hook. */
    public static final class ReconcileCounter implements Metrics {

        private final Map<ResourceID, AtomicInteger> started = new ConcurrentHashMap<>();
        private final Map<ResourceID, AtomicInteger> failed = new ConcurrentHashMap<>();

        @Override
        public void reconcileCustomResource(HasMetadata resource, RetryInfo retryInfo, Map<String, Object> metadata) {
            if (resource instanceof ModelDeployment) {
                started.computeIfAbsent(ResourceID.fromResource(resource), k -> new AtomicInteger()).incrementAndGet();
            }
        }

        @Override
        public void failedReconciliation(HasMetadata resource, Exception exception, Map<String, Object> metadata) {
            if (resource instanceof ModelDeployment) {
                failed.computeIfAbsent(ResourceID.fromResource(resource), k -> new AtomicInteger()).incrementAndGet();
            }
        }

        public int of(String namespace, String name) {
            AtomicInteger n = started.get(new ResourceID(name, namespace));
            return n == null ? 0 : n.get();
        }

        public int total() {
            return started.values().stream().mapToInt(AtomicInteger::get).sum();
        }

        public int failures() {
            return failed.values().stream().mapToInt(AtomicInteger::get).sum();
        }

        public Map<ResourceID, Integer> snapshot() {
            Map<ResourceID, Integer> out = new java.util.HashMap<>();
            started.forEach((k, v) -> out.put(k, v.get()));
            return out;
        }
    }
}
