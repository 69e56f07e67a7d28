package io.gpupool.agent;

import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static io.gpupool.testing.PoolFixtures.node;
import static io.gpupool.testing.PoolFixtures.servingPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HostPathVolumeSourceBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.api.v1alpha1.ServingWorkStatus;
import io.gpupool.api.v1alpha1.ServingWorkSpec.EmbeddedObject;
import io.gpupool.core.policy.ContributorPolicy;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.core.status.Conditions;
import io.gpupool.testing.MockCluster;
import io.gpupool.testing.TcpProxy;

/**
 * The agent between two API servers: a contributor's cluster (Nodes from the fixtures, the serving namespace) and the
 * pool's (its hub namespace), both Fabric8 mock servers in CRUD mode; the hub is reached through a proxy the test can
 * cut. The pool's operator is not running here: the test writes the ServingWork the pool would write.
 */
class ContributorAgentTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String CLUSTER = "home-lab";
    private static final String HUB_NS = "gpupool-cluster-home-lab";
    private static final String SERVING = "gpupool-serving";
    private static final String CONTRIBUTE = "gpupool.io/contribute";

    private MockCluster pool;
    private MockCluster contributor;
    private TcpProxy link;
    private KubernetesClient hubAsAgent;
    private ContributorAgent agent;

    @BeforeEach
    void clusters() throws Exception {
        pool = MockCluster.withGpupoolCrds();
        contributor = MockCluster.plain();
        link = new TcpProxy(pool.port());
        hubAsAgent = MockCluster.client(link.url());
        pool.client().resource(new NamespaceBuilder().withNewMetadata().withName(HUB_NS).endMetadata().build()).create();
        contributor.client().resource(new NamespaceBuilder().withNewMetadata().withName(SERVING).endMetadata().build())
                .create();
        for (String fixture : List.of("a100-40g-mig-01", "rtx4090-home-01", "cpu-only-01", "l4-02-notready")) {
            Node n = node(fixture, null);
            n.getMetadata().getLabels().put(CONTRIBUTE, "true");
            contributor.client().resource(n).create();
        }
        Node notContributed = node("t4-01", null); // a GPU node its owner keeps for itself
        contributor.client().resource(notContributed).create();
        Node otherLabel = node("l4-01", "someone-else"); // its organization label means nothing in a contributed cluster
        otherLabel.getMetadata().getLabels().put(CONTRIBUTE, "true");
        contributor.client().resource(otherLabel).create();
    }

    private void startAgent(ContributorPolicy policy) {
        AgentSettings settings = new AgentSettings("uni-nlp", CLUSTER, Map.of(CONTRIBUTE, "true"), SERVING,
                Duration.ofSeconds(1), policy);
        agent = new ContributorAgent(contributor.client(), hubAsAgent, settings, Clock.systemUTC());
        agent.start();
    }

    private static ContributorPolicy defaultPolicy() {
        return new ContributorPolicy(List.of("ghcr.io/gpupool/inference-vllm:*", "ghcr.io/gpupool/inference-llamacpp:*"),
                false, false);
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        hubAsAgent.close();
        link.close();
        contributor.close();
        pool.close();
    }

    private List<GpuNode> gpuNodes() {
        return pool.client().resources(GpuNode.class).inNamespace(HUB_NS).list().getItems();
    }

    private GpuNode gpuNode(String name) {
        return pool.client().resources(GpuNode.class).inNamespace(HUB_NS).withName(name).get();
    }

    private List<Deployment> servingDeployments() {
        return contributor.client().apps().deployments().inNamespace(SERVING).list().getItems();
    }

    private ServingWork work(String name) {
        return pool.client().resources(ServingWork.class).inNamespace(HUB_NS).withName(name).get();
    }

    /** The ServingWork the pool renders for a ModelDeployment with replicas on nodes of this cluster. */
    private static ServingWork renderedWork(String mdName, Map<String, Integer> replicasPerNode) {
        ModelDeployment md = modelDeployment("team-a", mdName, replicasPerNode.values().stream().mapToInt(i -> i).sum(), 1);
        List<Placement> placements = replicasPerNode.entrySet().stream()
                .map(e -> new Placement(CLUSTER, e.getKey(), "rtx-24g", e.getValue())).toList();
        return RemoteWorkRenderer.render(md, "org-a", CLUSTER, placements, ServingSettings.DEFAULT);
    }

    @Test
    void discoversContributedGpuNodesAndRegistersThemWithAHeartbeat() {
        // A contributor that lets the pool's work run its models' own code here, but not load pickled weights.
        startAgent(new ContributorPolicy(defaultPolicy().allowedImages(), false, false, true, false, List.of()));
        await().atMost(WAIT).until(() -> gpuNodes().size() == 4);
        assertThat(gpuNodes()).extracting(n -> n.getMetadata().getName())
                .containsExactlyInAnyOrder("a100-40g-mig-01", "rtx4090-home-01", "l4-02-notready", "l4-01");
        assertThat(gpuNodes()).allSatisfy(n -> {
            assertThat(n.getSpec().cluster).isEqualTo(CLUSTER);
            assertThat(n.getSpec().organization).isEqualTo("uni-nlp"); // the cluster's, never a node label's
            // What its policy consents to, so that the pool places here only work it would accept (#14 item 6).
            assertThat(n.getSpec().consent.remoteCode).isTrue();
            assertThat(n.getSpec().consent.unsafeWeights).isFalse();
        });
        GpuNode mig = gpuNode("a100-40g-mig-01");
        assertThat(mig.getSpec().gpu.product).isEqualTo("A100-SXM4-40GB-MIG-1g.5gb");
        assertThat(mig.getSpec().gpu.count).isEqualTo(56);
        assertThat(mig.getSpec().gpu.memoryMiB).isEqualTo(5120L);
        GpuNode rtx = gpuNode("rtx4090-home-01");
        assertThat(rtx.getSpec().gpu.product).contains("RTX-4090");
        assertThat(rtx.getSpec().nodeReady).isTrue();
        assertThat(gpuNode("l4-02-notready").getSpec().nodeReady).isFalse();

        // The heartbeat is the only status field the agent writes; it keeps moving.
        await().atMost(WAIT).until(() -> gpuNode("rtx4090-home-01").getStatus() != null
                && gpuNode("rtx4090-home-01").getStatus().lastHeartbeatTime != null);
        String first = gpuNode("rtx4090-home-01").getStatus().lastHeartbeatTime;
        await().atMost(WAIT).until(() -> !first.equals(gpuNode("rtx4090-home-01").getStatus().lastHeartbeatTime));
        assertThat(gpuNode("rtx4090-home-01").getStatus().conditions).isEmpty();
    }

    @Test
    void nodesThatAreCordonedNotReadyOrLabelledOutLeaveThePool() {
        startAgent(defaultPolicy());
        await().atMost(WAIT).until(() -> gpuNodes().size() == 4);

        contributor.client().nodes().withName("rtx4090-home-01").edit(n -> {
            n.getSpec().setUnschedulable(true);
            return n;
        });
        await().atMost(WAIT).until(() -> Boolean.TRUE.equals(gpuNode("rtx4090-home-01").getSpec().unschedulable));

        contributor.client().nodes().withName("a100-40g-mig-01").edit(n -> {
            n.getStatus().getConditions().get(0).setStatus("False");
            return n;
        });
        await().atMost(WAIT).until(() -> Boolean.FALSE.equals(gpuNode("a100-40g-mig-01").getSpec().nodeReady));

        contributor.client().nodes().withName("l4-01").edit(n -> {
            n.getMetadata().getLabels().remove(CONTRIBUTE);
            return n;
        });
        await().atMost(WAIT).until(() -> gpuNode("l4-01") == null);

        contributor.client().nodes().withName("l4-02-notready").delete();
        await().atMost(WAIT).until(() -> gpuNode("l4-02-notready") == null);
        assertThat(gpuNodes()).hasSize(2);
    }

    /** An API server that refuses every request with 401, as the pool does once a cluster's token is no longer valid. */
    private static com.sun.net.httpserver.HttpServer refusingServer() throws java.io.IOException {
        var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress(
                java.net.InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = ("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                    + "\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server;
    }

    @Test
    void aClusterThePoolRevokedStopsItsWorkAfterTheGraceAndAnOutageDoesNot() throws Exception {
        AgentSettings settings = new AgentSettings("uni-nlp", CLUSTER, Map.of(CONTRIBUTE, "true"), SERVING,
                Duration.ofSeconds(1), defaultPolicy(), Duration.ofSeconds(3));
        agent = new ContributorAgent(contributor.client(), hubAsAgent, settings, Clock.systemUTC());
        agent.start();
        ServingWork work = renderedWork("llama", Map.of("rtx4090-home-01", 2));
        work.getSpec().credentialsKey = "team-a.llama";
        pool.client().resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata()
                .withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET).withNamespace(HUB_NS).endMetadata()
                .addToData("team-a.llama", "aGZfc2VjcmV0").build()).create();
        pool.client().resource(work).create();
        await().atMost(WAIT).until(() -> servingDeployments().size() == 1
                && servingDeployments().get(0).getSpec().getReplicas() == 2
                && contributor.client().secrets().inNamespace(SERVING)
                        .withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET).get() != null);

        // An outage (the pool does not answer) keeps the work running, however long it lasts.
        link.cut();
        Thread.sleep(5_000);
        assertThat(agent.revoked()).isFalse();
        assertThat(servingDeployments().get(0).getSpec().getReplicas()).isEqualTo(2);

        // The pool answers, but refuses the credentials (the ContributedCluster was deleted): after the grace the
        // work is scaled to zero and the copied token is gone.
        var refusing = refusingServer();
        try {
            link.retarget(refusing.getAddress().getPort());
            link.restore();
            await().atMost(WAIT).until(agent::revoked);
            await().atMost(WAIT).until(() -> servingDeployments().get(0).getSpec().getReplicas() == 0
                    && contributor.client().secrets().inNamespace(SERVING)
                            .withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET).get() == null);
            // And it stays so: the cached work is not applied again.
            Thread.sleep(2_500);
            assertThat(servingDeployments().get(0).getSpec().getReplicas()).isZero();
        } finally {
            refusing.stop(0);
        }

        // Credentials good again (the pool reissued them): the work runs again.
        link.retarget(pool.port());
        await().atMost(WAIT).until(() -> !agent.revoked() && servingDeployments().get(0).getSpec().getReplicas() == 2);
    }

    @Test
    void workBecomesDeploymentsAndServiceAndReportsReadiness() {
        startAgent(defaultPolicy());
        ServingWork work = renderedWork("llama", Map.of("rtx4090-home-01", 2));
        pool.client().resource(work).create();

        await().atMost(WAIT).until(() -> servingDeployments().size() == 1);
        Deployment d = servingDeployments().get(0);
        assertThat(d.getMetadata().getNamespace()).isEqualTo(SERVING);
        assertThat(d.getMetadata().getAnnotations()).containsEntry(ContributorAgent.WORK_NAME_ANNOTATION, "team-a.llama");
        assertThat(d.getSpec().getReplicas()).isEqualTo(2);
        assertThat(d.getSpec().getTemplate().getSpec().getAffinity().getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms().get(0).getMatchFields().get(0)
                .getValues()).containsExactly("rtx4090-home-01");
        String hash = RemoteWorkRenderer.workHash("team-a", "llama");
        assertThat(d.getSpec().getSelector().getMatchLabels()).containsEntry(RemoteWorkRenderer.WORK_LABEL, hash);
        await().atMost(WAIT).until(() -> contributor.client().services().inNamespace(SERVING).list().getItems().size() == 1);
        Service svc = contributor.client().services().inNamespace(SERVING).list().getItems().get(0);
        assertThat(svc.getSpec().getSelector()).containsExactly(Map.entry(RemoteWorkRenderer.WORK_LABEL, hash));

        await().atMost(WAIT).until(() -> work("team-a.llama").getStatus() != null
                && Conditions.isTrue(work("team-a.llama").getStatus().conditions, ContributorAgent.APPLIED));
        assertThat(work("team-a.llama").getStatus().readyReplicas).isZero();

        // Play the Deployment controller of the contributor's cluster.
        d.setStatus(new DeploymentStatusBuilder().withReplicas(2).withReadyReplicas(2).build());
        contributor.client().resource(d).updateStatus();
        await().atMost(WAIT).until(() -> Integer.valueOf(2).equals(work("team-a.llama").getStatus().readyReplicas));
        assertThat(work("team-a.llama").getStatus().conditions).as("conditions")
                .anySatisfy(c -> assertThat(c.getType() + "=" + c.getStatus()).isEqualTo("Ready=True"));

        // Work withdrawn at the pool: its objects go.
        pool.client().resources(ServingWork.class).inNamespace(HUB_NS).withName("team-a.llama").delete();
        await().atMost(WAIT).until(() -> servingDeployments().isEmpty()
                && contributor.client().services().inNamespace(SERVING).list().getItems().isEmpty());
    }

    @Test
    void workThatBreaksThePolicyIsRefusedWithAReason() {
        startAgent(new ContributorPolicy(List.of("ghcr.io/gpupool/inference-vllm:*"), false, false));
        ServingWork foreignImage = renderedWork("miner", Map.of("rtx4090-home-01", 1));
        Deployment d = foreignImage.getSpec().deployments().get(0);
        d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage("docker.io/evil/miner:latest");
        foreignImage.getSpec().deployments = List.of(EmbeddedObject.of(d));
        pool.client().resource(foreignImage).create();

        ServingWork hostPath = renderedWork("peek", Map.of("rtx4090-home-01", 1));
        Deployment p = hostPath.getSpec().deployments().get(0);
        p.getSpec().getTemplate().getSpec().getVolumes().add(new io.fabric8.kubernetes.api.model.VolumeBuilder()
                .withName("root").withHostPath(new HostPathVolumeSourceBuilder().withPath("/").build()).build());
        p.getSpec().getTemplate().getSpec().getContainers().get(0).getSecurityContext().setPrivileged(true);
        hostPath.getSpec().deployments = List.of(EmbeddedObject.of(p));
        pool.client().resource(hostPath).create();

        ServingWork fine = renderedWork("fine", Map.of("rtx4090-home-01", 1));
        pool.client().resource(fine).create();

        await().atMost(WAIT).until(() -> work("team-a.miner").getStatus() != null
                && work("team-a.peek").getStatus() != null && work("team-a.fine").getStatus() != null);
        var miner = Conditions.find(work("team-a.miner").getStatus().conditions, ContributorAgent.APPLIED).orElseThrow();
        assertThat(miner.getStatus()).isEqualTo("False");
        assertThat(miner.getReason()).isEqualTo(ContributorAgent.POLICY_VIOLATION);
        assertThat(miner.getMessage()).contains("docker.io/evil/miner:latest").contains("not in the allowed images");
        var peek = Conditions.find(work("team-a.peek").getStatus().conditions, ContributorAgent.APPLIED).orElseThrow();
        assertThat(peek.getReason()).isEqualTo(ContributorAgent.POLICY_VIOLATION);
        assertThat(peek.getMessage()).contains("mounts host path /").contains("is privileged");
        assertThat(Conditions.isTrue(work("team-a.fine").getStatus().conditions, ContributorAgent.APPLIED)).isTrue();
        assertThat(servingDeployments()).extracting(x -> x.getMetadata().getAnnotations()
                .get(ContributorAgent.WORK_NAME_ANNOTATION)).containsExactly("team-a.fine");
    }

    @Test
    void aLostPoolConnectionKeepsWorkRunningAndResynchronisesWithoutDuplicates() throws Exception {
        startAgent(defaultPolicy());
        pool.client().resource(renderedWork("stays", Map.of("rtx4090-home-01", 1))).create();
        pool.client().resource(renderedWork("goes", Map.of("rtx4090-home-01", 1))).create();
        await().atMost(WAIT).until(() -> servingDeployments().size() == 2 && gpuNodes().size() == 4);
        var before = agent.lastHeartbeat();

        link.cut();
        // While the agent cannot see the pool, the pool withdraws one work and scales the other; the agent goes on
        // running what it has.
        pool.client().resources(ServingWork.class).inNamespace(HUB_NS).withName("team-a.goes").delete();
        ServingWork scaled = renderedWork("stays", Map.of("rtx4090-home-01", 1, "a100-40g-mig-01", 3));
        pool.client().resources(ServingWork.class).inNamespace(HUB_NS).withName("team-a.stays").edit(w -> {
            w.setSpec(scaled.getSpec());
            return w;
        });
        // The agent keeps both Deployments throughout the outage.
        await().during(java.time.Duration.ofSeconds(3)).atMost(java.time.Duration.ofSeconds(3).plus(WAIT))
                .untilAsserted(() -> assertThat(servingDeployments()).hasSize(2));
        // A node changes meanwhile.
        contributor.client().nodes().withName("rtx4090-home-01").edit(n -> {
            n.getSpec().setUnschedulable(true);
            return n;
        });

        link.restore();
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(servingDeployments()).extracting(d -> d.getMetadata().getAnnotations()
                    .get(ContributorAgent.WORK_NAME_ANNOTATION)).containsExactly("team-a.stays", "team-a.stays");
            assertThat(servingDeployments()).extracting(d -> d.getSpec().getReplicas()).containsExactlyInAnyOrder(1, 3);
        });
        await().atMost(WAIT).until(() -> Boolean.TRUE.equals(gpuNode("rtx4090-home-01").getSpec().unschedulable));
        await().atMost(WAIT).until(() -> agent.lastHeartbeat() != null && agent.lastHeartbeat().isAfter(before));
        assertThat(gpuNodes()).hasSize(4);
        assertThat(contributor.client().services().inNamespace(SERVING).list().getItems()).hasSize(1);
        assertThat(pool.client().resources(GpuNode.class).inAnyNamespace().list().getItems())
                .allSatisfy(n -> assertThat(n.getMetadata().getLabels()).containsEntry(ApiGroup.MANAGED_BY_LABEL,
                        ContributorAgent.MANAGED_BY));
    }

    /** Plays the contributor's kubelet: the pod a serving Deployment would start, ready or not. */
    private void runPod(Deployment d, String name, boolean ready) {
        contributor.client().resource(servingPod(d, name, ready)).create();
    }

    @Test
    void aNodeLeavingThePoolStaysWithdrawnWhileWorkRunsOnItThenGoes() {
        startAgent(defaultPolicy());
        pool.client().resource(renderedWork("llama", Map.of("rtx4090-home-01", 1))).create();
        await().atMost(WAIT).until(() -> servingDeployments().size() == 1 && gpuNodes().size() == 4);
        runPod(servingDeployments().get(0), "llama-0", true);
        // The pods per node are what the pool keeps GPUs booked for.
        await().atMost(WAIT).untilAsserted(() -> assertThat(work("team-a.llama").getStatus().nodes)
                .containsExactly(new ServingWorkStatus.NodePods("rtx4090-home-01", 1, 1)));

        contributor.client().nodes().withName("rtx4090-home-01").edit(n -> {
            n.getMetadata().getLabels().remove(CONTRIBUTE);
            return n;
        });
        // Not gone at once: withdrawn, still alive (heartbeats), so that the pool moves its replica gracefully.
        await().atMost(WAIT).until(() -> Boolean.TRUE.equals(gpuNode("rtx4090-home-01").getSpec().withdrawn));
        String beat = gpuNode("rtx4090-home-01").getStatus().lastHeartbeatTime;
        await().atMost(WAIT).until(() -> !beat.equals(gpuNode("rtx4090-home-01").getStatus().lastHeartbeatTime));

        // The pool has placed the replica elsewhere: the work is gone, the pod stops (slowly).
        pool.client().resources(ServingWork.class).inNamespace(HUB_NS).withName("team-a.llama").delete();
        await().atMost(WAIT).until(() -> servingDeployments().isEmpty());
        await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> gpuNode("rtx4090-home-01") != null);
        contributor.client().pods().inNamespace(SERVING).withName("llama-0").delete();
        await().atMost(WAIT).until(() -> gpuNode("rtx4090-home-01") == null);
        assertThat(gpuNodes()).hasSize(3);
    }

    @Test
    void leavingThePoolWithdrawsEveryNodeAndWaitsUntilThePoolHasMovedItsWork() throws Exception {
        startAgent(defaultPolicy());
        pool.client().resource(renderedWork("llama", Map.of("rtx4090-home-01", 1))).create();
        await().atMost(WAIT).until(() -> servingDeployments().size() == 1 && gpuNodes().size() == 4);
        runPod(servingDeployments().get(0), "llama-0", true);

        var left = java.util.concurrent.CompletableFuture.supplyAsync(() -> agent.leave(Duration.ofSeconds(60)));
        // Idle nodes leave at once; the busy one is withdrawn and waits for the pool.
        await().atMost(WAIT).until(() -> gpuNodes().size() == 1);
        assertThat(gpuNode("rtx4090-home-01").getSpec().withdrawn).isTrue();
        assertThat(left).isNotDone();

        pool.client().resources(ServingWork.class).inNamespace(HUB_NS).withName("team-a.llama").delete();
        await().atMost(WAIT).until(() -> servingDeployments().isEmpty());
        contributor.client().pods().inNamespace(SERVING).withName("llama-0").delete();
        assertThat(left.get(30, java.util.concurrent.TimeUnit.SECONDS)).as("left gracefully").isTrue();
        assertThat(gpuNodes()).isEmpty();
    }

    @Test
    void leavingThePoolGivesUpWaitingAfterTheTimeout() throws Exception {
        startAgent(defaultPolicy());
        pool.client().resource(renderedWork("llama", Map.of("rtx4090-home-01", 1))).create();
        await().atMost(WAIT).until(() -> servingDeployments().size() == 1 && gpuNodes().size() == 4);
        runPod(servingDeployments().get(0), "llama-0", true);

        // The pool never moves the work (it may be down): after the timeout the nodes leave anyway.
        assertThat(agent.leave(Duration.ofSeconds(3))).isFalse();
        assertThat(gpuNodes()).isEmpty();
    }

    @Test
    void aGatedModelWaitsForItsTokenThenReadsTheAgentsCopyOfIt() {
        startAgent(defaultPolicy());
        ModelDeployment md = modelDeployment("team-a", "gated", 1, 1);
        md.getSpec().hfTokenSecretRef = new io.gpupool.api.v1alpha1.SecretKeyRef();
        md.getSpec().hfTokenSecretRef.name = "hf";
        ServingWork work = RemoteWorkRenderer.render(md, "org-a", CLUSTER,
                List.of(new Placement(CLUSTER, "rtx4090-home-01", "rtx-24g", 1)), ServingSettings.DEFAULT);
        pool.client().resource(work).create();

        // No token shared yet: nothing starts, and the work says why.
        await().atMost(WAIT).until(() -> work("team-a.gated").getStatus() != null);
        var applied = Conditions.find(work("team-a.gated").getStatus().conditions, ContributorAgent.APPLIED).orElseThrow();
        assertThat(applied.getReason()).isEqualTo(ContributorAgent.WAITING_FOR_CREDENTIALS);
        assertThat(servingDeployments()).isEmpty();

        // The pool shares it (a key per work, in the one Secret of the hub namespace the agent may read).
        pool.client().resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata()
                .withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET).withNamespace(HUB_NS).endMetadata()
                .addToData("team-a.gated", b64("hf_gated")).addToData("team-b.elsewhere", b64("hf_not_here")).build())
                .create();
        await().atMost(WAIT).until(() -> servingDeployments().size() == 1);
        var copy = contributor.client().secrets().inNamespace(SERVING).withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET)
                .get();
        assertThat(copy.getData()).as("only the tokens of work that runs here").containsExactly(
                Map.entry("team-a.gated", b64("hf_gated")));
        var ref = servingDeployments().get(0).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .filter(e -> e.getName().equals("HF_TOKEN")).findFirst().orElseThrow().getValueFrom().getSecretKeyRef();
        assertThat(ref.getName() + "/" + ref.getKey()).isEqualTo(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET
                + "/team-a.gated");
        await().atMost(WAIT).until(() -> Conditions.isTrue(work("team-a.gated").getStatus().conditions,
                ContributorAgent.APPLIED));

        // The token is rotated at the pool: the copy follows. The work goes: so does the copy.
        pool.client().secrets().inNamespace(HUB_NS).withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET).edit(s -> {
            s.getData().put("team-a.gated", b64("hf_rotated"));
            return s;
        });
        await().atMost(WAIT).until(() -> b64("hf_rotated").equals(contributor.client().secrets().inNamespace(SERVING)
                .withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET).get().getData().get("team-a.gated")));
        pool.client().resources(ServingWork.class).inNamespace(HUB_NS).withName("team-a.gated").delete();
        await().atMost(WAIT).until(() -> servingDeployments().isEmpty() && contributor.client().secrets()
                .inNamespace(SERVING).withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET).get() == null);
    }

    private static String b64(String s) {
        return java.util.Base64.getEncoder().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
