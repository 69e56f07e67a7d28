package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.agent.AgentSettings;
import io.gpupool.agent.ContributorAgent;
import io.gpupool.cluster.SimulatedKubelet;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ApiKey;
import io.gpupool.api.v1alpha1.ApiKeyStatus;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.gateway.ApiKeys;
import io.gpupool.core.gateway.metering.UsageCounts;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.policy.ContributorPolicy;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.gateway.Gateway;
import io.gpupool.gateway.GatewaySettings;
import io.gpupool.gateway.TunnelReplicas;
import io.gpupool.gateway.upstream.UpstreamRequest;
import io.gpupool.gateway.upstream.UpstreamUnavailableException;
import io.gpupool.operator.cluster.ContributedClusterReconciler;
import io.gpupool.testing.FakeEngine;
import io.gpupool.testing.EnginePodNetwork;
import io.gpupool.testing.TcpProxy;
import io.gpupool.tunnel.GatewayTunnels;
import io.gpupool.testing.PoolFixtures;
import io.gpupool.tunnel.RemoteReplica;
import io.gpupool.tunnel.TunnelRegistry;
import io.gpupool.tunnel.TunnelServer;
import io.gpupool.tunnel.agent.TunnelClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A model served behind a contributor's NAT, called through the pool gateway, with the real API server deciding who
 * may open a tunnel: two contributed clusters with the hub namespace, ServiceAccount, Role and RoleBinding the operator
 * gives each, real ServiceAccount tokens (TokenRequest), and the real gateway (its tunnel endpoint mounted as the
 * gateway role mounts it) that checks them as the gateway's ServiceAccount bound to {@code system:auth-delegator}
 * (TokenReview and SubjectAccessReview) and allowed to watch ServingWorks. The real agent of cluster A runs with A's
 * token at both ends of its link: its hub watches and its tunnel, which reaches the gateway through a TCP link a test
 * can cut. The agent's Deployment (and, for one test, a replica in the pool's own cluster rendered as the operator renders
 * it) becomes a pod through the real Deployment controller and kube-scheduler, on a GPU server of the shared control
 * plane, and the simulated kubelet runs it with a SIMULATED engine at its pod IP. Members call with the official OpenAI
 * Java client.
 */
@ApiServerTier
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TunnelApiServerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String A = "tunnel-a";
    private static final String B = "tunnel-b";
    private static final String GATEWAY_NS = "tunnel-gateway";
    private static final String GATEWAY_SA = "gpupool-gateway";
    private static final String GATEWAY_WORKS = "tunnel-gateway-servingworks";
    private static final String REPORTS = "tunnel-gateway-reports";
    private static final String SERVING = "tunnel-serving";
    private static final String MODELS = "tunnel-team";
    private static final String ORG = "tunnel-org";
    private static final String SERVED = MODELS + "/llama";
    private static final String KEY = "gpk_tunnel-test-member-key";
    /** The GPU server both the contributed cluster's work and the pool's own replica run on (one control plane). */
    private static final String NODE = "tunnel-a100";

    private static KubernetesClient admin;
    private static Vertx vertx;
    private static FakeEngine engine;
    private static KubernetesClient asGateway;
    private static TunnelRegistry registry;
    private static GatewayTunnels tunnels;
    private static Gateway gateway;
    private static TcpProxy link;
    private static OpenAIClient member;
    private static KubernetesClient hubAsA;
    private static ContributorAgent agent;
    private static TunnelClient tunnel;
    private static EnginePodNetwork network;
    private static AutoCloseable engines;
    private static final Map<String, String> TOKENS = new java.util.HashMap<>();
    private static final AtomicReference<String> agentToken = new AtomicReference<>();

    @BeforeAll
    static void start(RealKubeApiServer.Server server) throws Exception {
        server.applyCrds();
        admin = server.admin();
        for (String cluster : List.of(A, B)) {
            String ns = NodeTrust.hubNamespace(cluster);
            admin.resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
                    .createOr(r -> r.update());
            admin.resource(new ServiceAccountBuilder().withNewMetadata().withName(ContributedClusterReconciler.AGENT)
                    .withNamespace(ns).endMetadata().build()).createOr(r -> r.update());
            admin.resource(ContributedClusterReconciler.agentRole(ns)).createOr(r -> r.update());
            admin.resource(agentBinding(ns)).createOr(r -> r.update());
            TOKENS.put(cluster, admin.serviceAccounts().inNamespace(ns).withName(ContributedClusterReconciler.AGENT)
                    .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec()
                            .build())
                    .getStatus().getToken());
        }
        // The gateway's identity: may review tokens and access, nothing more (system:auth-delegator).
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(GATEWAY_NS).endMetadata().build())
                .createOr(r -> r.update());
        admin.resource(new ServiceAccountBuilder().withNewMetadata().withName(GATEWAY_SA).withNamespace(GATEWAY_NS)
                .endMetadata().build()).createOr(r -> r.update());
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName("tunnel-gateway-auth-delegator")
                .endMetadata().withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole")
                .withName("system:auth-delegator").endRoleRef().addNewSubject().withKind("ServiceAccount")
                .withName(GATEWAY_SA).withNamespace(GATEWAY_NS).endSubject().build()).createOr(r -> r.update());
        // ... and watch the work the pool placed, as the chart's gateway Role allows.
        admin.resource(new ClusterRoleBuilder().withNewMetadata().withName(GATEWAY_WORKS).endMetadata().addNewRule()
                .withApiGroups(ApiGroup.GROUP).withResources("servingworks").withVerbs("get", "list", "watch")
                .endRule().build()).createOr(r -> r.update());
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(GATEWAY_WORKS).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole")
                .withName(GATEWAY_WORKS).endRoleRef().addNewSubject().withKind("ServiceAccount").withName(GATEWAY_SA)
                .withNamespace(GATEWAY_NS).endSubject().build()).createOr(r -> r.update());
        asGateway = server.impersonating("system:serviceaccount:" + GATEWAY_NS + ":" + GATEWAY_SA);

        // The pool placed llama on A and other on B; a member of its organization has a key (its hash as the
        // operator writes it).
        admin.resource(PoolFixtures.organization(ORG, MODELS)).createOr(r -> r.update());
        admin.resource(PoolFixtures.namespace(MODELS)).createOr(r -> r.update());
        admin.resource(PoolFixtures.modelDeployment(MODELS, "llama", 1, 1)).createOr(r -> r.update());
        ApiKey key = new ApiKey();
        key.setMetadata(new ObjectMetaBuilder().withNamespace(MODELS).withName("member").build());
        admin.resource(key).createOr(r -> r.update());
        admin.resources(ApiKey.class).inNamespace(MODELS).withName("member").editStatus(k -> {
            k.setStatus(new ApiKeyStatus());
            k.getStatus().keyHash = ApiKeys.hash(KEY);
            return k;
        });
        admin.resource(work("llama", A)).createOr(r -> r.update());
        admin.resource(work("other", B)).createOr(r -> r.update());

        vertx = Vertx.vertx();
        // The serving pods get a SIMULATED engine at their pod IP: the contributed cluster's echoes prompts.
        SimulatedKubelet.registerNode(admin, PoolFixtures.node("a100-80g-01", NODE, null));
        network = new EnginePodNetwork(vertx, (pod, e) -> {
            if (SERVING.equals(pod.getMetadata().getNamespace())) {
                e.echo();
            }
        });
        engines = server.kubelet().addresses(p -> Set.of(SERVING, MODELS).contains(p.getMetadata().getNamespace()),
                network);
        tunnels = new GatewayTunnels(vertx, asGateway,
                new TunnelServer.Settings(() -> 1, 64 * 1024, Duration.ofSeconds(1), Duration.ofMillis(500)));
        registry = tunnels.registry();
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(REPORTS).endMetadata().build())
                .createOr(r -> r.update());
        gateway = Gateway.start(vertx, admin, GatewaySettings.forTest(REPORTS, "tunnel-test/1"),
                new SimpleMeterRegistry(), Clock.systemUTC(), new TunnelReplicas(tunnels.registry()), List.of(tunnels::mount));
        link = new TcpProxy(gateway.port());
        member = OpenAIOkHttpClient.builder().apiKey(KEY).baseUrl(gateway.url()).maxRetries(0)
                .timeout(Duration.ofSeconds(30)).build();

        // Cluster A: the real agent, with A's token for the hub and for the tunnel.
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(SERVING).endMetadata().build())
                .createOr(r -> r.update());
        Config hubConfig = server.adminConfig();
        hubConfig.setClientCertData(null);
        hubConfig.setClientKeyData(null);
        hubConfig.setClientCertFile(null);
        hubConfig.setClientKeyFile(null);
        hubConfig.setOauthToken(TOKENS.get(A));
        hubAsA = new KubernetesClientBuilder().withConfig(hubConfig).build();
        agent = new ContributorAgent(admin, hubAsA, new AgentSettings("tunnel-org", A, Map.of("tunnel-test", "none"),
                SERVING, Duration.ofSeconds(1), new ContributorPolicy(List.of("ghcr.io/gpupool/*"), false, false)),
                Clock.systemUTC());
        agent.start();
        agentToken.set(TOKENS.get(A));
        tunnel = new TunnelClient(vertx, new TunnelClient.Settings(URI.create(link.url()),
                A, agentToken::get, Optional.empty(), Duration.ofMillis(200), Duration.ofSeconds(1),
                Duration.ofSeconds(1)), agent.servingEndpoints());
        tunnel.start();
        // What the agent applied for its work runs: a pod made by the real controllers, with its engine.
        await().atMost(WAIT).until(() -> network.engines(p -> SERVING.equals(p.getMetadata().getNamespace())).size() == 1);
        engine = network.engines(p -> SERVING.equals(p.getMetadata().getNamespace())).get(0);
    }

    private static RoleBindingBuilder agentBindingBuilder(String ns) {
        return new RoleBindingBuilder().withNewMetadata().withName(ContributedClusterReconciler.AGENT).withNamespace(ns)
                .endMetadata().withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role")
                .withName(ContributedClusterReconciler.AGENT).endRoleRef().addNewSubject().withKind("ServiceAccount")
                .withName(ContributedClusterReconciler.AGENT).withNamespace(ns).endSubject();
    }

    private static io.fabric8.kubernetes.api.model.rbac.RoleBinding agentBinding(String ns) {
        return agentBindingBuilder(ns).build();
    }

    private static ServingWork work(String model, String cluster) {
        return RemoteWorkRenderer.render(PoolFixtures.modelDeployment(MODELS, model, 1, 1), "tunnel-org", cluster,
                List.of(new Placement(cluster, NODE, "gpu", 1)), ServingSettings.DEFAULT);
    }

    @AfterAll
    static void stop() throws Exception {
        if (tunnel != null) {
            tunnel.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (tunnels != null) {
            tunnels.close();
        }
        if (link != null) {
            link.close();
        }
        for (KubernetesClient c : new KubernetesClient[] { hubAsA, asGateway }) {
            if (c != null) {
                c.close();
            }
        }
        admin.apps().deployments().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).delete();
        admin.services().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).delete();
        // The garbage collector takes the pods with their ReplicaSets, the kubelet confirms them gone; then the node.
        await().atMost(WAIT).until(() -> admin.pods().inNamespace(SERVING).list().getItems().isEmpty()
                && admin.pods().inNamespace(MODELS).list().getItems().isEmpty());
        admin.nodes().withName(NODE).delete();
        if (engines != null) {
            engines.close();
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        for (String cluster : List.of(A, B)) {
            admin.resources(ServingWork.class).inNamespace(NodeTrust.hubNamespace(cluster)).delete();
        }
        admin.resources(ApiKey.class).inNamespace(MODELS).delete();
        admin.resources(ModelDeployment.class).inNamespace(MODELS).delete();
        admin.rbac().clusterRoleBindings().withName("tunnel-gateway-auth-delegator").delete();
        admin.rbac().clusterRoleBindings().withName(GATEWAY_WORKS).delete();
        admin.rbac().clusterRoles().withName(GATEWAY_WORKS).delete();
        admin.resources(Organization.class).withName(ORG).delete();
    }

    private static UpstreamRequest chat(String prompt) {
        return new UpstreamRequest(HttpMethod.POST, "/v1/chat/completions",
                MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json"),
                new JsonObject().put("model", SERVED).put("messages", new JsonArray().add(new JsonObject()
                        .put("role", "user").put("content", prompt))).toBuffer());
    }

    /** The status with which the gateway refuses an upgrade with these credentials. */
    private static int refusal(String token, String cluster) throws Exception {
        var client = vertx.createWebSocketClient();
        try {
            client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gateway.port())
                    .setURI(TunnelServer.PATH).addHeader("Authorization", "Bearer " + token)
                    .addHeader(TunnelServer.CLUSTER_HEADER, cluster)).toCompletionStage().toCompletableFuture()
                    .get(20, TimeUnit.SECONDS).close();
            return 101;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof UpgradeRejectedException rejected) {
                return rejected.getStatus();
            }
            throw e;
        } finally {
            client.close();
        }
    }

    @Test
    @Order(1)
    void theAgentsOwnCredentialsOpenItsTunnelToItsReplicas() throws Exception {
        await().atMost(WAIT).until(() -> registry.replicasOf(MODELS, "llama").size() == 1);
        RemoteReplica replica = registry.replicasOf(MODELS, "llama").get(0);
        String pod = admin.pods().inNamespace(SERVING).list().getItems().get(0).getMetadata().getName();
        assertThat(replica).isEqualTo(new RemoteReplica(A, RemoteWorkRenderer.workName(MODELS, "llama"), pod));
        var response = registry.upstream(replica).send(chat("through the tunnel")).toCompletionStage()
                .toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertThat(response.statusCode()).isEqualTo(200);
        StringBuilder body = new StringBuilder();
        var done = new java.util.concurrent.CompletableFuture<Void>();
        response.body().endHandler(v -> done.complete(null));
        response.body().handler(body::append);
        done.get(20, TimeUnit.SECONDS);
        assertThat(body).contains("echo: through the tunnel");
        // The agent can see, and so serves, only its own cluster's work.
        assertThat(agent.servingEndpoints().ready()).containsOnlyKeys(RemoteWorkRenderer.workName(MODELS, "llama"));
    }

    @Test
    @Order(2)
    void aMemberCallsTheModelBehindTheContributorsNatThroughTheGateway() throws Exception {
        await().atMost(WAIT).until(() -> gateway.directory().snapshot().reachable().getOrDefault(SERVED, 0) == 1);
        assertThat(member.models().list().data()).extracting(m -> m.id()).contains(SERVED);
        ChatCompletion answer = member.chat().completions().create(ChatCompletionCreateParams.builder().model(SERVED)
                .addUserMessage("hello from afar").build());
        assertThat(answer.choices().get(0).message().content()).hasValue("echo: hello from afar");

        // Streaming crosses gateway, tunnel and agent chunk by chunk: the first chunk arrives while the engine holds
        // the rest back; the usage chunk the gateway asked for (the client did not) never reaches the client.
        CompletableFuture<Void> rest = engine.holdAfterFirstChunk();
        try (StreamResponse<ChatCompletionChunk> stream = member.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model(SERVED).addUserMessage("one two three").build())) {
            Iterator<ChatCompletionChunk> chunks = stream.stream().iterator();
            assertThat(chunks.next().choices().get(0).delta().content()).hasValue("echo:");
            assertThat(rest).isNotDone();
            rest.complete(null);
            List<ChatCompletionChunk> others = new ArrayList<>();
            chunks.forEachRemaining(others::add);
            assertThat(others).hasSize(3).allSatisfy(c -> assertThat(c.usage()).isEmpty());
        }
        assertThat(engine.bodies().get(engine.bodies().size() - 1).path("stream_options").path("include_usage")
                .asBoolean()).isTrue();
        assertThat(engine.authorizations()).isEmpty();

        // Metered for the member's organization, on the cluster that served it.
        var metered = new UsageCounts.UsageKey(ORG, SERVED, A);
        await().atMost(WAIT).until(() -> gateway.meter().snapshot().usage().containsKey(metered)
                && gateway.meter().snapshot().usage().get(metered).requests() == 2);
        var counts = gateway.meter().snapshot().usage().get(metered);
        assertThat(counts.completionTokens()).isEqualTo(4 + 4);
    }

    @Test
    @Order(3)
    void aTunnelCutMidStreamEndsTheAnswerWithAnErrorAndStopsTheEngine() throws Exception {
        int cancelled = engine.cancelled();
        engine.holdAfterFirstChunk();
        try (StreamResponse<ChatCompletionChunk> stream = member.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model(SERVED).addUserMessage("cut me off").build())) {
            Iterator<ChatCompletionChunk> chunks = stream.stream().iterator();
            assertThat(chunks.next().choices().get(0).delta().content()).hasValue("echo:");
            link.cut();
            // The gateway ends the stream with an OpenAI error event, which the client raises.
            assertThatThrownBy(() -> chunks.forEachRemaining(c -> {
            })).isInstanceOf(OpenAIException.class).hasMessageContaining("broke off its answer");
        } finally {
            link.restore();
        }
        // The agent lost its side of the request too: it cancels the engine's.
        await().atMost(WAIT).until(() -> engine.cancelled() == cancelled + 1);
        await().atMost(WAIT).until(() -> gateway.dispatchers().of(SERVED).stats().inFlight() == 0);
        // The agent comes back by itself.
        await().atMost(WAIT).until(() -> gateway.directory().snapshot().reachable().getOrDefault(SERVED, 0) == 1);
        assertThat(member.chat().completions().create(ChatCompletionCreateParams.builder().model(SERVED)
                .addUserMessage("back again").build()).choices().get(0).message().content()).hasValue("echo: back again");
    }

    @Test
    @Order(4)
    void aTunnelLostBeforeTheFirstByteSendsTheRequestOnceMoreToAnotherReplica() throws Exception {
        // A second replica of the model, in the pool's own cluster: the Deployment the operator would render for it.
        Deployment localReplica = admin.resource(ServingRenderer.deployment(admin.resources(ModelDeployment.class)
                .inNamespace(MODELS).withName("llama").get(), new Placement(NodeTrust.LOCAL_CLUSTER, NODE, "gpu", 1),
                ServingSettings.DEFAULT)).create();
        await().atMost(WAIT).until(() -> gateway.directory().snapshot().reachable().getOrDefault(SERVED, 0) == 2);
        FakeEngine local = network.engines(MODELS, "llama").get(0);
        CompletableFuture<Void> held = engine.holdBeforeHead();
        ExecutorService callers = Executors.newCachedThreadPool();
        try {
            // Prompts spread over both replicas (prefix affinity): call until one is held at the remote engine.
            CompletableFuture<ChatCompletion> atRemote = null;
            for (int i = 0; i < 20 && atRemote == null; i++) {
                int before = engine.requests();
                String prompt = "probe " + i + " " + "x".repeat(i * 7);
                CompletableFuture<ChatCompletion> call = CompletableFuture.supplyAsync(() -> member.chat()
                        .completions().create(ChatCompletionCreateParams.builder().model(SERVED).addUserMessage(prompt)
                                .build()), callers);
                await().atMost(WAIT).until(() -> call.isDone() || engine.requests() > before);
                if (!call.isDone()) {
                    atRemote = call;
                }
            }
            assertThat(atRemote).as("no prompt went to the replica behind the tunnel").isNotNull();
            int localBefore = local.requests();
            link.cut();
            // Nothing came back through the tunnel before it dropped: the gateway sends the request to the other one.
            ChatCompletion answer = atRemote.get(30, TimeUnit.SECONDS);
            assertThat(answer.choices().get(0).message().content()).hasValue("Hello from " + SERVED + " (SIMULATED)");
            assertThat(local.requests()).isEqualTo(localBefore + 1);
        } finally {
            held.complete(null);
            link.restore();
            callers.shutdownNow();
            admin.resource(localReplica).delete();
        }
        await().atMost(WAIT).until(() -> gateway.directory().snapshot().reachable().getOrDefault(SERVED, 0) == 1);
    }

    @Test
    @Order(5)
    void aForgedTokenOrAnotherClustersTokenIsRefused() throws Exception {
        assertThat(refusal("eyJhbGciOiJSUzI1NiJ9.forged.token", A)).isEqualTo(401);
        assertThat(refusal(TOKENS.get(B), A)).isEqualTo(403); // B's agent claiming to be A's
        assertThat(refusal(TOKENS.get(A), B)).isEqualTo(403); // and the other way round
        assertThat(refusal(TOKENS.get(A), "Not_A_Name")).isEqualTo(400);
        assertThat(refusal(TOKENS.get(B), B)).isEqualTo(101); // B's own tunnel is fine
    }

    @Test
    @Order(6)
    void aServingWorkOfAnotherClusterIsNotReachableThroughThisOne() {
        String otherWork = RemoteWorkRenderer.workName(MODELS, "other");
        assertThat(registry.replicas(A, otherWork)).isEmpty();
        assertThatThrownBy(() -> registry.upstream(new RemoteReplica(A, otherWork, "llama-pod-0")).send(chat("x"))
                .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS))
                .hasCauseInstanceOf(UpstreamUnavailableException.class).hasMessageContaining("placed no work");
    }

    @Test
    @Order(7)
    void revokingTheClustersAccessClosesItsTunnel() {
        assertThat(registry.connected(A)).isTrue();
        admin.rbac().roleBindings().inNamespace(NodeTrust.hubNamespace(A)).withName(ContributedClusterReconciler.AGENT)
                .delete();
        try {
            await().atMost(WAIT).until(() -> !registry.connected(A));
            // And it cannot open another: the agent keeps trying, the pool keeps refusing.
            await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> !registry.connected(A));
        } finally {
            admin.resource(agentBinding(NodeTrust.hubNamespace(A))).createOr(r -> r.update());
        }
        // Approved again: the agent's next attempt opens it.
        await().atMost(WAIT).until(() -> registry.connected(A));
    }
}
