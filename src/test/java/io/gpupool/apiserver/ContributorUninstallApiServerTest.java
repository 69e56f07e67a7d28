package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.marcnuri.helm.Helm;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.agent.AgentConfig;
import io.gpupool.agent.AgentLauncher;
import io.gpupool.agent.ContributorAgent;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.cluster.SimulatedKubelet;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.operator.cluster.ContributedClusterReconciler;
import io.gpupool.operator.node.LocalNodeReconciler;
import io.gpupool.testing.PoolFixtures;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * {@code helm uninstall} of the contributor chart withdraws the cluster's GPUs without interrupting the models they
 * serve. The chart is installed and uninstalled by real Helm (helm-java) on the real API server; nothing runs its
 * workloads (no kube-controller-manager, no kubelet), so the test plays them, each from what the API server holds:
 * <ul>
 * <li>the agent's Deployment: the agent runs in this JVM, configured from the Deployment's environment the way Quarkus
 * reads it, as the chart's ServiceAccount in its cluster and as the cluster's ServiceAccount at the pool; it stops
 * when its Deployment is scaled to 0;</li>
 * <li>the uninstall hook: Helm creates the pre-delete Job and waits for it; the test runs what its pod would run
 * ({@link AgentLauncher#leavePool}) with the Job's environment and ServiceAccount, as that pod's process on the
 * simulated kubelet, and the real Job controller completes the Job when it ends;</li>
 * <li>the real Deployment controller, scheduler and garbage collector of the shared control plane, and its simulated
 * kubelet: a serving Deployment gets a pod bound to its node, ready after the load delay.</li>
 * </ul>
 * The pool (the in-process operator, as the operator chart's ServiceAccount) moves the replica to a node of its own
 * cluster while the contributed one keeps serving, and the contributed nodes leave once nothing runs on them.
 */
@ApiServerTier
class ContributorUninstallApiServerTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String OPERATOR_RELEASE = "gpupool-operator";
    private static final String OPERATOR_NS = "gpupool-system";
    // Names of their own: Helm deletes the serving namespace, and other classes of the tier use the chart's defaults.
    private static final String RELEASE = "leaving";
    private static final String RELEASE_NS = "gpupool-contributor-leaving";
    private static final String SERVING = "gpupool-serving-leaving";
    private static final String AGENT_DEPLOYMENT = RELEASE + "-agent";
    private static final String LEAVE_JOB = RELEASE + "-leave-pool";
    private static final int LEAVE_TIMEOUT_SECONDS = 60;
    private static final String ORG = "leaving-org";
    private static final String CLUSTER = "home-lab-leaving";
    private static final String HUB_NS = NodeTrust.hubNamespace(CLUSTER);
    private static final String CONTRIBUTED_NODE = "rtx4090-home-01";
    private static final String POOL_NODE = "l4-01";
    private static final String HOME_CLASS = "leaving-rtx4090";
    private static final String POOL_CLASS = "leaving-l4";
    private static final String MODELS = "leaving-team";
    private static final String MODEL = "chat";
    private static final String CONTRIBUTE = "gpupool.io/contribute";
    private static final String MODEL_SERVER = "model-server";

    private static RealKubeApiServer.Server server;
    private static KubernetesClient admin;
    private static InstalledChart operatorChart;
    private static KubernetesClient asOperator;
    private static TestPool pool;
    private static InProcessOperator operator;
    /** A node without GPUs (no taint) for the pods of the chart's agent and of its pre-delete Job. */
    private static final String SYSTEM_NODE = "cpu-only-01";
    private static final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeAll
    static void poolWithAnApprovedClusterAndANodeOfItsOwn(RealKubeApiServer.Server s) {
        server = s;
        server.applyCrds();
        admin = server.admin();
        operatorChart = InstalledChart.install(admin, "gpupool-operator", OPERATOR_RELEASE, OPERATOR_NS, Map.of(),
                o -> true);
        asOperator = server.impersonating("system:serviceaccount:" + OPERATOR_NS + ":" + OPERATOR_RELEASE);
        pool = new TestPool(admin).member(MODELS, ORG).gpuClass(HOME_CLASS, 20000, "NVIDIA-GeForce-RTX-4090")
                .gpuClass(POOL_CLASS, 20000, "NVIDIA-L4");
        operator = InProcessOperator.start(asOperator);
        pool.approve(CLUSTER, ORG).contribute(POOL_NODE, ORG);
        // The contributed cluster's GPU node (the same API server plays that cluster), selected by the chart's default.
        Node node = PoolFixtures.node(CONTRIBUTED_NODE, null);
        node.getMetadata().getLabels().put(CONTRIBUTE, "true");
        SimulatedKubelet.registerNode(admin, node);
        SimulatedKubelet.registerNode(admin, PoolFixtures.node(SYSTEM_NODE, null));
    }

    @AfterAll
    static void cleanUp() {
        try {
            for (int i = closing.size() - 1; i >= 0; i--) {
                closeQuietly(closing.get(i));
            }
            if (!releases().isEmpty()) {
                // The test failed before Helm finished: remove the release without running its hook again.
                Helm.uninstall(RELEASE).withNamespace(RELEASE_NS).withKubeConfigContents(server.kubeConfigYaml())
                        .noHooks().ignoreNotFound().call();
            }
            admin.batch().v1().jobs().inNamespace(RELEASE_NS).withName(LEAVE_JOB).delete();
            admin.apps().deployments().inNamespace(SERVING).withLabel("app.kubernetes.io/component", MODEL_SERVER)
                    .delete();
            admin.secrets().inNamespace(RELEASE_NS).withName("gpupool-hub").delete();
            // Its pods go with the Deployments (the kubelet confirms them gone); then their nodes may go.
            await().atMost(WAIT).until(() -> admin.pods().inNamespace(SERVING).list().getItems().isEmpty()
                    && admin.pods().inNamespace(RELEASE_NS).list().getItems().isEmpty());
            admin.nodes().withName(CONTRIBUTED_NODE).delete();
            admin.nodes().withName(SYSTEM_NODE).delete();
        } finally {
            try {
                TestPool.tearDown(pool, operator);
            } finally {
                closeQuietly(asOperator);
                closeQuietly(operatorChart);
            }
        }
    }

    @Test
    void uninstallingTheChartMovesTheReplicaBeforeTheNodesLeave() throws Exception {
        // The contributor installs the chart with the kubeconfig the pool issued.
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(RELEASE_NS).endMetadata().build())
                .createOr(r -> r.update());
        admin.resource(new SecretBuilder().withNewMetadata().withName("gpupool-hub").withNamespace(RELEASE_NS)
                .endMetadata().addToData("kubeconfig", admin.secrets().inNamespace(HUB_NS)
                        .withName(ContributedClusterReconciler.KUBECONFIG_SECRET).get().getData().get("kubeconfig"))
                .build()).createOr(r -> r.update());
        new Helm(Path.of("charts", "gpupool-contributor")).install().withName(RELEASE).withNamespace(RELEASE_NS)
                .withKubeConfigContents(server.kubeConfigYaml()).set("organization", ORG).set("clusterName", CLUSTER)
                .set("hub.inCluster", false).set("hub.kubeconfigSecret", "gpupool-hub")
                .set("servingNamespace.name", SERVING).set("withdrawal.timeoutSeconds", LEAVE_TIMEOUT_SECONDS).call();
        assertThat(releases()).singleElement().isEqualTo("deployed");
        // The real quota controller computes the status of the chart's ResourceQuota in the serving namespace; until it
        // has, the ResourceQuota admission plugin refuses every pod there.
        await().atMost(WAIT).until(() -> admin.resourceQuotas().inNamespace(SERVING).list().getItems().stream()
                .allMatch(q -> q.getStatus() != null && q.getStatus().getHard() != null));

        // Its agent runs (here) with the Deployment's configuration (the Deployment's own pod runs on the simulated
        // kubelet, and the real Deployment controller reports it).
        Deployment agentDeployment = admin.apps().deployments().inNamespace(RELEASE_NS).withName(AGENT_DEPLOYMENT).get();
        PodSpec agentPod = agentDeployment.getSpec().getTemplate().getSpec();
        AgentConfig runningConfig = configFrom(agentPod.getContainers().get(0).getEnv());
        assertThat(runningConfig.leavePool()).isFalse();
        ContributorAgent running = agent(runningConfig, agentPod.getServiceAccountName());
        running.start();
        // Its ServiceAccount (which the uninstall hook shares) may scale its own Deployment, never rewrite it: a new
        // image or command there would run anything with the agent's rights at the pool.
        List<String> allowed = new ArrayList<>();
        Forbidden.orAllowed(allowed, "change the agent Deployment's image", () -> localClient(agentPod
                .getServiceAccountName()).apps().deployments().inNamespace(RELEASE_NS).withName(AGENT_DEPLOYMENT)
                .edit(d -> {
                    d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage("evil.example/agent:latest");
                    return d;
                }));
        assertThat(allowed).isEmpty();
        AtomicBoolean stoppedByScaleDown = new AtomicBoolean();
        closing.add(inform(admin.apps().deployments().inNamespace(RELEASE_NS).withName(AGENT_DEPLOYMENT), d -> {
            int replicas = d.getSpec().getReplicas();
            if (replicas == 0 && stoppedByScaleDown.compareAndSet(false, true)) {
                running.close(); // the pod is gone
            }
        }));

        await().atMost(WAIT).until(() -> admin.resources(GpuNode.class).inNamespace(HUB_NS).withName(CONTRIBUTED_NODE)
                .get() != null);

        // A model prefers the contributed cluster's GPUs and also takes the pool's own.
        ModelDeployment md = PoolFixtures.modelDeployment(MODELS, MODEL, 1, 1);
        md.getSpec().model.maxContextLength = 4096;
        md.getSpec().gpu.classes = List.of(HOME_CLASS, POOL_CLASS);
        admin.resource(md).create();
        await().atMost(WAIT).untilAsserted(() -> {
            ModelDeployment m = model();
            assertThat(m.getStatus()).isNotNull();
            assertThat(m.getStatus().placements).extracting(p -> p.cluster + "/" + p.node)
                    .containsExactly(CLUSTER + "/" + CONTRIBUTED_NODE);
            assertThat(m.getStatus().replicas.ready).isEqualTo(1);
        });

        // From now on: the model's ready replicas, the contributed nodes' withdrawal, the contributed replica's pod
        // template, sampled at every change.
        AtomicInteger minReady = new AtomicInteger(Integer.MAX_VALUE);
        AtomicBoolean handedOver = new AtomicBoolean();
        closing.add(inform(admin.resources(ModelDeployment.class).inNamespace(MODELS).withName(MODEL), m -> {
            minReady.accumulateAndGet(m.getStatus() == null || m.getStatus().replicas == null ? 0
                    : m.getStatus().replicas.ready, Math::min);
            if (m.getStatus() != null && !m.getStatus().handover.isEmpty()) {
                handedOver.set(true);
            }
        }));
        AtomicInteger withdrawalsUndone = new AtomicInteger();
        Map<String, Boolean> withdrawn = new ConcurrentHashMap<>();
        closing.add(inform(admin.resources(GpuNode.class).inNamespace(HUB_NS), g -> {
            boolean now = Boolean.TRUE.equals(g.getSpec().withdrawn);
            Boolean before = withdrawn.put(g.getMetadata().getName(), now);
            if (Boolean.TRUE.equals(before) && !now) {
                withdrawalsUndone.incrementAndGet();
            }
        }));
        Set<PodTemplateSpec> contributedTemplates = ConcurrentHashMap.newKeySet();
        closing.add(inform(admin.apps().deployments().inNamespace(SERVING)
                .withLabel("app.kubernetes.io/component", MODEL_SERVER),
                d -> contributedTemplates.add(d.getSpec().getTemplate())));

        // helm uninstall creates the pre-delete Job and waits for it. Its pod runs on the simulated kubelet, whose
        // process is the leave run below (in this JVM): the pod succeeds when that ends, and the real Job controller
        // then completes the Job.
        CompletableFuture<Integer> leaveRun = new CompletableFuture<>();
        closing.add(server.kubelet().runs(p -> LEAVE_JOB.equals(p.getMetadata().getLabels().get("job-name")),
                p -> leaveRun));
        CompletableFuture<String> uninstall = CompletableFuture.supplyAsync(() -> Helm.uninstall(RELEASE)
                .withNamespace(RELEASE_NS).withKubeConfigContents(server.kubeConfigYaml()).call());
        var jobs = admin.batch().v1().jobs().inNamespace(RELEASE_NS).withName(LEAVE_JOB);
        await().atMost(WAIT).until(() -> jobs.get() != null || uninstall.isDone());
        Job job = jobs.get();
        assertThat(job).as("the pre-delete Job (helm uninstall ended: %s)", uninstall.isDone() ? uninstall.get() : "no")
                .isNotNull();
        assertThat(releases()).containsExactly("uninstalling");

        // It runs the agent as the agent Deployment does, with the same image, configuration and ServiceAccount, plus
        // the order to leave; within a deadline past the leave timeout.
        assertThat(job.getMetadata().getAnnotations()).containsEntry("helm.sh/hook", "pre-delete");
        assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(LEAVE_TIMEOUT_SECONDS + 120L);
        PodSpec jobPod = job.getSpec().getTemplate().getSpec();
        assertThat(jobPod.getRestartPolicy()).isEqualTo("Never");
        assertThat(jobPod.getServiceAccountName()).isEqualTo(agentPod.getServiceAccountName());
        assertThat(jobPod.getVolumes()).isEqualTo(agentPod.getVolumes());
        Container leaveContainer = jobPod.getContainers().get(0);
        Container agentContainer = agentPod.getContainers().get(0);
        assertThat(leaveContainer.getImage()).isEqualTo(agentContainer.getImage());
        assertThat(leaveContainer.getVolumeMounts()).isEqualTo(agentContainer.getVolumeMounts());
        List<EnvVar> expectedEnv = new ArrayList<>(agentContainer.getEnv());
        expectedEnv.add(new EnvVarBuilder().withName("GPUPOOL_AGENT_LEAVE_POOL").withValue("true").build());
        expectedEnv.add(new EnvVarBuilder().withName("GPUPOOL_AGENT_LEAVE_TIMEOUT_SECONDS")
                .withValue(String.valueOf(LEAVE_TIMEOUT_SECONDS)).build());
        expectedEnv.add(new EnvVarBuilder().withName("GPUPOOL_AGENT_AGENT_DEPLOYMENT")
                .withValue(RELEASE_NS + "/" + AGENT_DEPLOYMENT).build());
        assertThat(leaveContainer.getEnv()).containsExactlyElementsOf(expectedEnv);

        // The Job's pod: what the launcher runs in the leave role, as the Job's ServiceAccount.
        AgentConfig leaveConfig = configFrom(leaveContainer.getEnv());
        assertThat(leaveConfig.leavePool()).isTrue();
        ContributorAgent leaving = agent(leaveConfig, jobPod.getServiceAccountName());
        long t0 = System.nanoTime();
        boolean graceful = AgentLauncher.leavePool(leaveConfig, localClient(jobPod.getServiceAccountName()), leaving);
        Duration left = Duration.ofNanos(System.nanoTime() - t0);
        leaving.close(); // the process exits
        System.out.printf("[uninstall] the cluster left the pool in %d ms (graceful: %s)%n", left.toMillis(), graceful);
        leaveRun.complete(0);
        String helmOutput = uninstall.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        assertThat(graceful).as("the pool moved the replica before the leave timeout").isTrue();
        assertThat(stoppedByScaleDown).as("the uninstall hook stopped the running agent (its Deployment at 0)").isTrue();
        assertThat(withdrawalsUndone).as("withdrawals undone by the stopping agent").hasValue(0);
        assertThat(minReady).as("fewest ready replicas of the model during the uninstall").hasValueGreaterThanOrEqualTo(1);
        assertThat(handedOver).as("the contributed replica kept serving during a handover").isTrue();
        assertThat(contributedTemplates).as("the contributed replica's pod template (never restarted)").hasSize(1);
        ModelDeployment after = model();
        assertThat(after.getStatus().placements).extracting(p -> p.cluster + "/" + p.node)
                .containsExactly(LocalNodeReconciler.LOCAL_CLUSTER + "/" + POOL_NODE);
        assertThat(after.getStatus().handover).isEmpty();
        assertThat(after.getStatus().replicas.ready).isEqualTo(1);
        assertThat(admin.resources(GpuNode.class).inNamespace(HUB_NS).list().getItems()).isEmpty();
        assertThat(helmOutput).contains("release \"" + RELEASE + "\" uninstalled");
        assertThat(releases()).isEmpty();
        assertThat(jobs.get()).as("the hook Job, deleted by Helm once it succeeded").isNull();
        assertThat(admin.apps().deployments().inNamespace(RELEASE_NS).withName(AGENT_DEPLOYMENT).get()).isNull();
    }

    /** The agent's configuration from a container's environment, read as the application reads it (SmallRye Config). */
    private static AgentConfig configFrom(List<EnvVar> env) {
        Map<String, String> variables = env.stream().collect(Collectors.toMap(EnvVar::getName,
                e -> Objects.requireNonNull(e.getValue(), e.getName() + " has no value")));
        return new SmallRyeConfigBuilder().withSources(new EnvConfigSource(variables, EnvConfigSource.ORDINAL))
                .withMapping(AgentConfig.class).build().getConfigMapping(AgentConfig.class);
    }

    /** An agent as a pod of the chart runs it: its ServiceAccount locally, its cluster's ServiceAccount at the pool. */
    private static ContributorAgent agent(AgentConfig config, String serviceAccount) {
        KubernetesClient hub = closed(server.impersonating("system:serviceaccount:" + HUB_NS + ":"
                + ContributedClusterReconciler.AGENT));
        ContributorAgent agent = new ContributorAgent(localClient(serviceAccount), hub, AgentLauncher.settings(config),
                Clock.systemUTC());
        closing.add(agent);
        return agent;
    }

    private static KubernetesClient localClient(String serviceAccount) {
        return closed(server.impersonating("system:serviceaccount:" + RELEASE_NS + ":" + serviceAccount));
    }

    private static KubernetesClient closed(KubernetesClient client) {
        closing.add(client);
        return client;
    }

    private static ModelDeployment model() {
        return admin.resources(ModelDeployment.class).inNamespace(MODELS).withName(MODEL).get();
    }

    /** Statuses of the release's versions that Helm keeps (its release Secrets). */
    private static List<String> releases() {
        return admin.secrets().inNamespace(RELEASE_NS).withLabel("owner", "helm").withLabel("name", RELEASE).list()
                .getItems().stream().map(s -> s.getMetadata().getLabels().get("status")).toList();
    }

    private static <T extends HasMetadata> SharedIndexInformer<T> inform(
            io.fabric8.kubernetes.client.dsl.Informable<T> source, Consumer<T> onChange) {
        return source.inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                onChange.accept(obj);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                onChange.accept(newObj);
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            }
        }, 0);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception e) {
            // keep closing the others
        }
    }
}
