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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.agent.AgentSettings;
import io.gpupool.agent.ContributorAgent;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.policy.ContributorPolicy;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.gateway.upstream.UpstreamRequest;
import io.gpupool.gateway.upstream.UpstreamUnavailableException;
import io.gpupool.operator.cluster.ContributedClusterReconciler;
import io.gpupool.testing.ScriptedEngine;
import io.gpupool.testing.PoolFixtures;
import io.gpupool.tunnel.HubServingWorks;
import io.gpupool.tunnel.KubernetesTunnelAuthenticator;
import io.gpupool.tunnel.RemoteReplica;
import io.gpupool.tunnel.TunnelRegistry;
import io.gpupool.tunnel.TunnelServer;
import io.gpupool.tunnel.agent.TunnelClient;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * Who may open a tunnel, decided by the real API server: two contributed clusters with the hub namespace,
 * ServiceAccount, Role and RoleBinding the operator gives each, real ServiceAccount tokens (TokenRequest), and a
 * gateway that checks them as the gateway's ServiceAccount bound to {@code system:auth-delegator} (TokenReview and
 * SubjectAccessReview, nothing else). The real agent of cluster A runs with A's token at both ends of its link: its hub
 * watches and its tunnel; a fake engine plays its serving pod.
 */
@ApiServerTier
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TunnelApiServerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String A = "tunnel-a";
    private static final String B = "tunnel-b";
    private static final String GATEWAY_NS = "tunnel-gateway";
    private static final String GATEWAY_SA = "gpupool-gateway";
    private static final String SERVING = "tunnel-serving";
    private static final String MODELS = "tunnel-team";

    private static KubernetesClient admin;
    private static Vertx vertx;
    private static ScriptedEngine engine;
    private static KubernetesClient asGateway;
    private static HubServingWorks works;
    private static TunnelRegistry registry;
    private static HttpServer gateway;
    private static KubernetesClient hubAsA;
    private static ContributorAgent agent;
    private static TunnelClient tunnel;
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
        asGateway = server.impersonating("system:serviceaccount:" + GATEWAY_NS + ":" + GATEWAY_SA);

        // The pool placed llama on A and other on B.
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(MODELS).endMetadata().build())
                .createOr(r -> r.update());
        admin.resource(work("llama", A)).createOr(r -> r.update());
        admin.resource(work("other", B)).createOr(r -> r.update());

        vertx = Vertx.vertx();
        engine = new ScriptedEngine(vertx);
        works = new HubServingWorks(admin);
        registry = new TunnelRegistry(works);
        Router router = Router.router(vertx);
        new TunnelServer(vertx, new KubernetesTunnelAuthenticator(asGateway), registry,
                new TunnelServer.Settings(() -> 1, 64 * 1024, Duration.ofSeconds(1), Duration.ofMillis(500)))
                .mount(router);
        gateway = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").toCompletionStage()
                .toCompletableFuture().get(10, TimeUnit.SECONDS);

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
        tunnel = new TunnelClient(vertx, new TunnelClient.Settings(URI.create("http://127.0.0.1:" + gateway.actualPort()),
                A, agentToken::get, Optional.empty(), Duration.ofMillis(200), Duration.ofSeconds(1),
                Duration.ofSeconds(1)), agent.servingEndpoints());
        tunnel.start();
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
                List.of(new Placement(cluster, "node-1", "gpu", 1)), ServingSettings.DEFAULT);
    }

    @AfterAll
    static void stop() throws Exception {
        if (tunnel != null) {
            tunnel.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (works != null) {
            works.close();
        }
        for (KubernetesClient c : new KubernetesClient[] { hubAsA, asGateway }) {
            if (c != null) {
                c.close();
            }
        }
        if (engine != null) {
            engine.close();
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        admin.apps().deployments().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).delete();
        admin.services().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).delete();
        admin.pods().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).withGracePeriod(0).delete();
        for (String cluster : List.of(A, B)) {
            admin.resources(ServingWork.class).inNamespace(NodeTrust.hubNamespace(cluster)).delete();
        }
        admin.rbac().clusterRoleBindings().withName("tunnel-gateway-auth-delegator").delete();
    }

    /** What a kubelet would do for the Deployment the agent applied: a ready pod, the fake engine at its IP. */
    private static void runServingPod() {
        await().atMost(WAIT).until(() -> !admin.apps().deployments().inNamespace(SERVING)
                .withLabel(RemoteWorkRenderer.WORK_LABEL).list().getItems().isEmpty());
        Deployment d = admin.apps().deployments().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).list()
                .getItems().get(0);
        Pod pod = PoolFixtures.servingPod(d, "llama-pod-0", true);
        pod.getSpec().getContainers().get(0).getPorts().stream()
                .filter(p -> ServingRenderer.PORT_NAME.equals(p.getName())).forEach(p -> p.setContainerPort(engine.port()));
        // The tier's control plane must leave this hand-run pod alone: only the work's label (no ReplicaSet adopts
        // it), and a scheduler that does not exist (nothing binds it or writes its status).
        String hash = d.getMetadata().getLabels().get(RemoteWorkRenderer.WORK_LABEL);
        pod.getMetadata().setLabels(Map.of(RemoteWorkRenderer.WORK_LABEL, hash));
        pod.getSpec().setSchedulerName("tunnel-test-runs-this-pod");
        var status = pod.getStatus();
        status.setPodIP("127.0.0.1");
        admin.resource(pod).createOr(r -> r.update());
        admin.pods().inNamespace(SERVING).withName("llama-pod-0").editStatus(p -> {
            p.setStatus(status);
            return p;
        });
    }

    private static UpstreamRequest chat(String prompt) {
        return new UpstreamRequest(HttpMethod.POST, "/v1/chat/completions",
                MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json"),
                new JsonObject().put("model", "llama").put("messages", new JsonArray().add(new JsonObject()
                        .put("role", "user").put("content", prompt))).toBuffer());
    }

    /** The status with which the gateway refuses an upgrade with these credentials. */
    private static int refusal(String token, String cluster) throws Exception {
        var client = vertx.createWebSocketClient();
        try {
            client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gateway.actualPort())
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
        runServingPod();
        await().atMost(WAIT).until(() -> registry.replicasOf(MODELS, "llama").size() == 1);
        RemoteReplica replica = registry.replicasOf(MODELS, "llama").get(0);
        assertThat(replica).isEqualTo(new RemoteReplica(A, RemoteWorkRenderer.workName(MODELS, "llama"),
                "llama-pod-0"));
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
    void aForgedTokenOrAnotherClustersTokenIsRefused() throws Exception {
        assertThat(refusal("eyJhbGciOiJSUzI1NiJ9.forged.token", A)).isEqualTo(401);
        assertThat(refusal(TOKENS.get(B), A)).isEqualTo(403); // B's agent claiming to be A's
        assertThat(refusal(TOKENS.get(A), B)).isEqualTo(403); // and the other way round
        assertThat(refusal(TOKENS.get(A), "Not_A_Name")).isEqualTo(400);
        assertThat(refusal(TOKENS.get(B), B)).isEqualTo(101); // B's own tunnel is fine
    }

    @Test
    @Order(3)
    void aServingWorkOfAnotherClusterIsNotReachableThroughThisOne() {
        String otherWork = RemoteWorkRenderer.workName(MODELS, "other");
        assertThat(registry.replicas(A, otherWork)).isEmpty();
        assertThatThrownBy(() -> registry.upstream(new RemoteReplica(A, otherWork, "llama-pod-0")).send(chat("x"))
                .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS))
                .hasCauseInstanceOf(UpstreamUnavailableException.class).hasMessageContaining("placed no work");
    }

    @Test
    @Order(4)
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
