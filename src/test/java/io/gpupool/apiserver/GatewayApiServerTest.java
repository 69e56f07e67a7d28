package io.gpupool.apiserver;

import static io.gpupool.apiserver.GatewayFixture.WAIT;
import static io.gpupool.apiserver.GatewayFixture.chat;
import static io.gpupool.apiserver.GatewayFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.EmbeddingCreateParams;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.readiness.Readiness;
import io.gpupool.api.v1alpha1.ApiKey;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.gateway.dispatch.QueueLimits;
import io.gpupool.core.status.Conditions;
import io.gpupool.gateway.Gateway;
import io.gpupool.testing.FakeEngine;
import io.gpupool.testing.EnginePodNetwork;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Vertx;

/**
 * The pool gateway end to end on the real control plane: the operator issues API keys, decides served names and
 * places the models on two organizations' GPU servers; the real Deployment controller and kube-scheduler make and bind
 * their pods, and the simulated kubelet runs each with a SIMULATED engine at its pod IP. The gateway, started
 * in-process as its role starts it, finds models, keys and serving pods by watching the API server, and routes to
 * them. The client is the official OpenAI Java SDK; what it never sends (malformed JSON, no key) goes through a raw
 * HTTP client.
 */
@ApiServerTier
class GatewayApiServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ALPHA = "gw-alpha";
    private static final String BETA = "gw-beta";
    private static final String GATEWAY_URL = "https://llm.pool.example/v1";

    private static KubernetesClient admin;
    private static TestPool pool;
    private static InProcessOperator operator;
    private static Vertx vertx;
    private static EnginePodNetwork network;
    private static AutoCloseable engines;
    private static Gateway gateway;
    private static String alphaKey;
    private static String betaKey;
    private static List<FakeEngine> alphaChat;
    private static FakeEngine commons;
    private static FakeEngine slow;
    private static FakeEngine streaming;
    /** The gateway's metrics, in Prometheus' text format as its /metrics serves them. */
    private static final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @BeforeAll
    static void start(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        GatewayFixture.gatewayNamespace(admin);
        pool = GatewayFixture.withGpuClass(new TestPool(admin).member(ALPHA, ALPHA).member(BETA, BETA)
                .allowSharing(ALPHA).allowSharing(BETA));
        operator = InProcessOperator.start(admin, GATEWAY_URL);
        pool.contribute(GatewayFixture.gpuServer("gw-alpha-h100", ALPHA))
                .contribute(GatewayFixture.gpuServer("gw-beta-h100", BETA));
        vertx = Vertx.vertx();
        // Every serving pod of the two namespaces gets a SIMULATED engine at its pod IP: alpha-slow answers after 3 s,
        // alpha-stream streams 200 chunks 50 ms apart, the others answer at once.
        network = new EnginePodNetwork(vertx, (pod, engine) -> {
            switch (GatewayFixture.modelOf(pod)) {
                case "slow" -> engine.serviceTime(Duration.ofSeconds(3));
                case "stream" -> engine.completionTokens(200).chunkInterval(Duration.ofMillis(50));
                default -> {
                }
            }
        });
        engines = GatewayFixture.engines(server, network, ALPHA, BETA);

        GatewayFixture.model(admin, ALPHA, "chat", "alpha-chat", false, null, 2);
        GatewayFixture.model(admin, ALPHA, "empty", "alpha-empty", false, null, 0);
        GatewayFixture.model(admin, ALPHA, "slow", "alpha-slow", false, 1);
        GatewayFixture.model(admin, ALPHA, "stream", "alpha-stream", false, null);
        GatewayFixture.model(admin, BETA, "commons", null, true, null);
        GatewayFixture.model(admin, BETA, "private", "beta-private", false, null);

        alphaKey = GatewayFixture.key(admin, ALPHA, "alpha-key");
        betaKey = GatewayFixture.key(admin, BETA, "beta-key");
        gateway = GatewayFixture.gateway(vertx, admin, GatewayFixture.settings("gw-test/1").withMaxBodyBytes(64 * 1024),
                metrics);
        // Every model has its replicas in the gateway's view before the tests call it.
        await().atMost(WAIT).until(() -> gateway.directory().snapshot().replicas().keySet().containsAll(List.of(
                ALPHA + "/chat", ALPHA + "/slow", ALPHA + "/stream", BETA + "/commons", BETA + "/private"))
                && gateway.directory().snapshot().replicas().get(ALPHA + "/chat").size() == 2);
        alphaChat = network.engines(ALPHA, "chat");
        slow = network.engines(ALPHA, "slow").get(0);
        streaming = network.engines(ALPHA, "stream").get(0);
        commons = network.engines(BETA, "commons").get(0);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (admin != null) {
            admin.resources(ApiKey.class).inNamespace(ALPHA).delete();
            admin.resources(ApiKey.class).inNamespace(BETA).delete();
        }
        // The engines go with their pods (the kubelet releases their addresses), then the class's Vert.x.
        TestPool.tearDown(pool, operator, engines, vertx == null ? null : vertx::close);
    }

    static OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder().apiKey(key).baseUrl(gateway.url()).maxRetries(0)
                .timeout(Duration.ofSeconds(30)).build();
    }

    @Test
    void theOfficialClientListsModelsChatsStreamsCompletesAndEmbeds() {
        OpenAIClient alpha = client(alphaKey);
        List<String> ids = alpha.models().list().data().stream().map(m -> m.id()).toList();
        assertThat(ids).contains("alpha-chat", "alpha-empty", "alpha-slow", "alpha-stream", "gw-beta/commons")
                .doesNotContain("beta-private");
        assertThat(alpha.models().retrieve("gw-beta/commons").ownedBy()).isEqualTo(BETA);

        ChatCompletion answer = alpha.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("alpha-chat").addUserMessage("Say hello").build());
        assertThat(answer.choices().get(0).message().content()).hasValue("Hello from alpha-chat (SIMULATED)");
        assertThat(answer.usage().orElseThrow().promptTokens()).isPositive();

        // Streaming without asking for usage: chunks pass through, the usage chunk the gateway asked for does not.
        List<ChatCompletionChunk> chunks;
        try (StreamResponse<ChatCompletionChunk> stream = alpha.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("alpha-chat").addUserMessage("Stream please").build())) {
            chunks = stream.stream().toList();
        }
        assertThat(chunks).hasSize(8).allSatisfy(c -> {
            assertThat(c.choices()).isNotEmpty();
            assertThat(c.usage()).isEmpty();
        });
        assertThat(chunks.stream().map(c -> c.choices().get(0).delta().content().orElse(""))
                .collect(Collectors.joining())).isEqualTo("Hello tok1 tok2 tok3 tok4 tok5 tok6 tok7");
        JsonNode sent = lastBody(alphaChat, "Stream please");
        assertThat(sent.path("stream_options").path("include_usage").asBoolean()).isTrue();

        // Asking for usage: the last chunk carries it.
        try (StreamResponse<ChatCompletionChunk> stream = alpha.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("alpha-chat").addUserMessage("Stream with usage")
                        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            chunks = stream.stream().toList();
        }
        assertThat(chunks).hasSize(9);
        assertThat(chunks.get(8).choices()).isEmpty();
        assertThat(chunks.get(8).usage().orElseThrow().completionTokens()).isEqualTo(8);

        assertThat(alpha.completions().create(CompletionCreateParams.builder().model("alpha-chat")
                .prompt("Once upon a time").build()).choices().get(0).text())
                .isEqualTo("Hello from alpha-chat (SIMULATED)");
        assertThat(alpha.embeddings().create(EmbeddingCreateParams.builder().model("gw-beta/commons")
                .input("embed me").build()).data().get(0).embedding()).hasSize(8);

        // The caller's key never leaves the gateway.
        for (FakeEngine e : List.of(alphaChat.get(0), alphaChat.get(1), commons)) {
            assertThat(e.authorizations()).isEmpty();
        }
    }

    @Test
    void errorsAreOpenAiErrorObjectsWithTheRightStatus() throws Exception {
        String url = gateway.url() + "/chat/completions";
        assertError(post(url, alphaKey, "{\"model\": \"alpha-chat\", \"messages\": ["), 400, "invalid_request_error");
        assertError(post(url, alphaKey, "{\"messages\": []}"), 400, "invalid_request_error");
        assertError(post(url, null, chat("alpha-chat", "hi")), 401, "invalid_request_error");
        assertError(post(url, "gpk_not-a-key", chat("alpha-chat", "hi")), 401, "invalid_request_error");
        assertError(post(url, alphaKey, chat("beta-private", "hi")), 403, "invalid_request_error");
        assertError(post(url, alphaKey, chat("no-such-model", "hi")), 404, "invalid_request_error");
        assertError(post(url, alphaKey, chat("alpha-chat", "x".repeat(70 * 1024))), 413, "invalid_request_error");
        HttpResponse<String> none = post(url, alphaKey, chat("alpha-empty", "hi"));
        assertError(none, 503, "server_error");
        assertThat(none.headers().firstValue("Retry-After")).isPresent();
        assertError(post(gateway.url() + "/files", alphaKey, "{}"), 404, "invalid_request_error");

        // The official client turns them into its exceptions.
        OpenAIClient alpha = client(alphaKey);
        assertThatThrownBy(() -> alpha.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("beta-private").addUserMessage("hi").build())).isInstanceOf(PermissionDeniedException.class);
        assertThatThrownBy(() -> alpha.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("no-such-model").addUserMessage("hi").build())).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> client("gpk_wrong").models().list()).isInstanceOf(UnauthorizedException.class);
        // Another organization's key reaches the shared model but not the private one.
        OpenAIClient beta = client(betaKey);
        assertThatThrownBy(() -> beta.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("alpha-chat").addUserMessage("hi").build())).isInstanceOf(PermissionDeniedException.class);
        assertThat(beta.chat().completions().create(ChatCompletionCreateParams.builder().model("beta-private")
                .addUserMessage("hi").build()).choices()).hasSize(1);
    }

    @Test
    void aFullQueueAndALongWaitAre429WithRetryAfter() throws Exception {
        // A gateway that queues one request per organization for 2 s; alpha-slow takes one request at a time, for 3 s.
        var callers = java.util.concurrent.Executors.newCachedThreadPool();
        try (Gateway small = GatewayFixture.gateway(vertx, admin, GatewayFixture.settings("gw-test/queue")
                .withQueue(new QueueLimits(1, Duration.ofSeconds(2))))) {
            await().atMost(WAIT).until(() -> small.directory().snapshot().replicas().containsKey(ALPHA + "/slow"));
            String url = small.url() + "/chat/completions";
            CompletableFuture<HttpResponse<String>> running = CompletableFuture.supplyAsync(() -> send(url, "first"),
                    callers);
            await().atMost(WAIT).until(() -> slow.active() == 1);
            CompletableFuture<HttpResponse<String>> waiting = CompletableFuture.supplyAsync(() -> send(url, "second"),
                    callers);
            await().atMost(WAIT).until(() -> small.dispatchers().of(ALPHA + "/slow").stats().queued() == 1);
            HttpResponse<String> full = post(url, alphaKey, chat("alpha-slow", "third"));
            assertError(full, 429, "rate_limit_error");
            assertThat(JSON.readTree(full.body()).path("error").path("code").asText()).isEqualTo("queue_full");
            assertThat(full.headers().firstValue("Retry-After")).isPresent();
            HttpResponse<String> timedOut = waiting.get();
            assertError(timedOut, 429, "rate_limit_error");
            assertThat(JSON.readTree(timedOut.body()).path("error").path("code").asText()).isEqualTo("queue_timeout");
            assertThat(running.get().statusCode()).isEqualTo(200);

            // The official client sees a RateLimitException.
            CompletableFuture<HttpResponse<String>> again = CompletableFuture.supplyAsync(() -> send(url, "again"),
                    callers);
            await().atMost(WAIT).until(() -> slow.active() == 1);
            CompletableFuture.supplyAsync(() -> send(url, "queued"), callers);
            await().atMost(WAIT).until(() -> small.dispatchers().of(ALPHA + "/slow").stats().queued() == 1);
            OpenAIClient viaSmall = OpenAIOkHttpClient.builder().apiKey(alphaKey).baseUrl(small.url()).maxRetries(0)
                    .build();
            assertThatThrownBy(() -> viaSmall.chat().completions().create(ChatCompletionCreateParams.builder()
                    .model("alpha-slow").addUserMessage("x").build())).isInstanceOf(RateLimitException.class);
            again.get();
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void aClientThatLeavesMidStreamCancelsTheEngineRequest() {
        int before = streaming.cancelled();
        try (StreamResponse<ChatCompletionChunk> stream = client(alphaKey).chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("alpha-stream").addUserMessage("long story").build())) {
            assertThat(stream.stream().limit(3).toList()).hasSize(3);
        }
        // 200 chunks 50 ms apart: the engine would stream for 10 s; it is cancelled as soon as the client goes.
        await().atMost(Duration.ofSeconds(5)).until(() -> streaming.cancelled() == before + 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> gateway.dispatchers().of(ALPHA + "/stream").stats()
                .inFlight() == 0);
    }

    @Test
    void anExpiredKeyIsRefusedAndSaysSo() throws Exception {
        String expiresAt = Instant.now().plusSeconds(4).truncatedTo(ChronoUnit.SECONDS).toString();
        String key = GatewayFixture.key(admin, ALPHA, "expiring", expiresAt);
        await().atMost(WAIT).until(() -> GatewayFixture.get(gateway.url() + "/models", key).statusCode() == 200);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200))
                .until(() -> GatewayFixture.get(gateway.url() + "/models", key).statusCode() == 401);
        HttpResponse<String> refused = GatewayFixture.get(gateway.url() + "/models", key);
        assertError(refused, 401, "invalid_request_error");
        assertThat(JSON.readTree(refused.body()).path("error").path("message").asText()).contains("expired");
        // kubectl describe says why too.
        await().atMost(WAIT).ignoreExceptions().until(() -> Conditions.find(admin.resources(ApiKey.class)
                .inNamespace(ALPHA).withName("expiring").get().getStatus().conditions, Conditions.READY)
                .map(c -> "False".equals(c.getStatus()) && "Expired".equals(c.getReason())).orElse(false));
    }

    @Test
    void prometheusCountsRequestsLatenciesAndTokens() {
        client(alphaKey).chat().completions().create(ChatCompletionCreateParams.builder().model("alpha-chat")
                .addUserMessage("measure me").build());
        assertThatThrownBy(() -> client(alphaKey).chat().completions().create(ChatCompletionCreateParams.builder()
                .model("no-such-model").addUserMessage("hi").build())).isInstanceOf(NotFoundException.class);
        String scraped = metrics.scrape();
        // Prometheus' text format (this client ends each label set with a comma).
        assertThat(scraped).containsPattern("gpupool_gateway_requests_total\\{code=\"200\",model=\"gw-alpha/chat\","
                + "organization=\"gw-alpha\",?} [1-9]")
                .containsPattern("gpupool_gateway_requests_total\\{code=\"404\",[^}]*} [1-9]")
                .containsPattern("gpupool_gateway_tokens_total\\{cluster=\"local\",kind=\"completion\","
                        + "model=\"gw-alpha/chat\",organization=\"gw-alpha\",?} [1-9]");
        for (String series : List.of("gpupool_gateway_request_duration_seconds_count",
                "gpupool_gateway_queue_wait_seconds_count", "gpupool_gateway_time_to_first_byte_seconds_count",
                "gpupool_gateway_in_flight", "gpupool_gateway_queued")) {
            assertThat(scraped).containsPattern(series + "\\{model=\"gw-alpha/chat\",?} ");
        }
    }

    @Test
    void deletingAKeyRevokesItWithinFiveSeconds() throws Exception {
        String key = GatewayFixture.key(admin, ALPHA, "short-lived");
        await().atMost(WAIT).until(() -> GatewayFixture.get(gateway.url() + "/models", key).statusCode() == 200);
        admin.resources(ApiKey.class).inNamespace(ALPHA).withName("short-lived").delete();
        long deleted = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> GatewayFixture.get(gateway.url() + "/models", key).statusCode() == 401);
        System.out.printf("[gateway] key revoked %d ms after its deletion%n", (System.nanoTime() - deleted) / 1_000_000);
    }

    @Test
    void tokensAreMeteredDurablyPerOrganizationAndKey() throws Exception {
        String key = GatewayFixture.key(admin, BETA, "metered");
        long before = usage(BETA) == null ? 0 : usage(BETA).requests;
        long beforeTokens = usage(BETA) == null ? 0 : usage(BETA).completionTokens;
        OpenAIClient beta = client(key);
        long prompt = 0;
        for (int i = 0; i < 3; i++) {
            prompt += beta.chat().completions().create(ChatCompletionCreateParams.builder().model("gw-beta/commons")
                    .addUserMessage("count me " + i).build()).usage().orElseThrow().promptTokens();
        }
        try (var stream = beta.chat().completions().createStreaming(ChatCompletionCreateParams.builder()
                .model("gw-beta/commons").addUserMessage("and me").build())) {
            stream.stream().forEach(c -> {
            });
        }
        gateway.reports().flushNow();
        await().atMost(WAIT).until(() -> usage(BETA) != null && usage(BETA).requests == before + 4);
        var usage = usage(BETA);
        assertThat(usage.completionTokens).isEqualTo(beforeTokens + 4 * 8);
        assertThat(usage.models).anySatisfy(m -> {
            assertThat(m.model).isEqualTo(BETA + "/commons");
            assertThat(m.cluster).isEqualTo("local");
        });
        long promptTokens = prompt;
        await().atMost(WAIT).until(() -> {
            ApiKey k = admin.resources(ApiKey.class).inNamespace(BETA).withName("metered").get();
            return k.getStatus().requests != null && k.getStatus().requests == 4;
        });
        ApiKey k = admin.resources(ApiKey.class).inNamespace(BETA).withName("metered").get();
        assertThat(k.getStatus().tokensUsed).isGreaterThan(promptTokens + 3 * 8);
        assertThat(k.getStatus().lastUsedTime).isNotNull();
        assertThat(k.getStatus().organization).isEqualTo(BETA);
    }

    @Test
    void aTakenServedNameGetsAConditionNamingItsHolderAndPassesOnWhenTheHolderGoes() {
        GatewayFixture.model(admin, ALPHA, "first", "shared-name", true, null, 0);
        await().atMost(WAIT).ignoreExceptions().until(() -> "shared-name".equals(status(ALPHA, "first").getStatus()
                .servedModelName));
        GatewayFixture.model(admin, BETA, "second", "shared-name", true, null, 0);
        await().atMost(WAIT).ignoreExceptions().until(() -> Conditions.find(
                status(BETA, "second").getStatus().conditions, "ServedModelName").map(c -> "NameTaken".equals(
                        c.getReason())).orElse(false));
        var taken = Conditions.find(status(BETA, "second").getStatus().conditions, "ServedModelName").orElseThrow();
        assertThat(taken.getStatus()).isEqualTo("False");
        assertThat(taken.getMessage()).contains("gw-alpha/first");
        assertThat(status(BETA, "second").getStatus().servedModelName).isNull();
        assertThat(status(ALPHA, "first").getStatus().endpoint).isEqualTo(GATEWAY_URL);
        // The status says how many replicas the gateway reaches (alpha-chat: two pods; first: none, it asks for none).
        await().atMost(WAIT).ignoreExceptions().until(() -> status(ALPHA, "chat").getStatus().replicas.reachable == 2);
        assertThat(status(ALPHA, "first").getStatus().replicas.reachable).isZero();

        admin.resources(ModelDeployment.class).inNamespace(ALPHA).withName("first").delete();
        await().atMost(WAIT).ignoreExceptions().until(() -> "shared-name".equals(status(BETA, "second").getStatus()
                .servedModelName));
        admin.resources(ModelDeployment.class).inNamespace(BETA).withName("second").delete();
    }

    @Test
    void promptsSharingAPrefixGoToOneReplica() throws Exception {
        String system = "You are a meticulous assistant of the gpupool project. ".repeat(4);
        int[] before = { alphaChat.get(0).requests(), alphaChat.get(1).requests() };
        OpenAIClient alpha = client(alphaKey);
        for (int i = 0; i < 10; i++) {
            alpha.chat().completions().create(ChatCompletionCreateParams.builder().model("alpha-chat")
                    .addSystemMessage(system).addUserMessage("question " + i).build());
        }
        int a = alphaChat.get(0).requests() - before[0];
        int b = alphaChat.get(1).requests() - before[1];
        assertThat(List.of(a, b)).containsExactlyInAnyOrder(10, 0);
    }

    /**
     * A member of beta creates, by hand, a Pod with everything a serving pod of the shared gw-beta/commons carries,
     * copied from the Deployment the operator rendered: labels, node annotation, GPU request, node affinity, served
     * name. The real scheduler binds it, the simulated kubelet runs it, and a (forged) engine answers at its IP. Only
     * no ReplicaSet of the operator's Deployment made it: the gateway sends it nothing, neither beta's requests nor
     * those of another organization (alpha), whose prompts would otherwise reach a pod beta controls.
     */
    @Test
    void aPodThatOnlyLooksLikeAServingPodGetsNoRequest() throws Exception {
        var template = admin.apps().deployments().inNamespace(BETA)
                .withLabel(io.gpupool.api.v1alpha1.ApiGroup.MODEL_DEPLOYMENT_LABEL, "commons").list().getItems().get(0)
                .getSpec().getTemplate();
        String name = "commons-forged";
        admin.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(BETA)
                .withLabels(template.getMetadata().getLabels()).withAnnotations(template.getMetadata().getAnnotations())
                .endMetadata().withSpec(template.getSpec()).build()).create();
        try {
            await().atMost(WAIT).until(() -> network.engineOf(BETA, name) != null && Readiness.isPodReady(admin.pods()
                    .inNamespace(BETA).withName(name).get()));
            FakeEngine forged = network.engineOf(BETA, name);
            // A gateway that starts now lists every pod there is, the forged one Ready at its address among them.
            try (Gateway fresh = GatewayFixture.gateway(vertx, admin, GatewayFixture.settings("gw-test/forged"))) {
                int before = commons.requests();
                for (OpenAIClient member : List.of(OpenAIOkHttpClient.builder().apiKey(alphaKey).baseUrl(fresh.url())
                        .maxRetries(0).build(), OpenAIOkHttpClient.builder().apiKey(betaKey).baseUrl(fresh.url())
                                .maxRetries(0).build())) {
                    // Prompts with nothing in common, so that prefix affinity would spread them over every replica.
                    for (int i = 0; i < 15; i++) {
                        member.chat().completions().create(ChatCompletionCreateParams.builder()
                                .model("gw-beta/commons").addUserMessage(i + " private prompt " + "#".repeat(i)).build());
                    }
                }
                assertThat(forged.requests()).as("requests the forged pod's engine received").isZero();
                assertThat(commons.requests()).isEqualTo(before + 30);
                assertThat(fresh.directory().snapshot().replicas().get(BETA + "/commons")).hasSize(1);
            }
        } finally {
            admin.pods().inNamespace(BETA).withName(name).delete();
        }
    }

    private static HttpResponse<String> send(String url, String content) {
        try {
            return post(url, alphaKey, chat("alpha-slow", content));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static ModelDeployment status(String ns, String name) {
        return admin.resources(ModelDeployment.class).inNamespace(ns).withName(name).get();
    }

    private static io.gpupool.api.v1alpha1.OrganizationUsage usage(String org) {
        Organization o = admin.resources(Organization.class).withName(org).get();
        return o == null || o.getStatus() == null ? null : o.getStatus().usage;
    }

    private static JsonNode lastBody(List<FakeEngine> engines, String content) {
        return engines.stream().flatMap(e -> e.bodies().stream())
                .filter(b -> b.path("messages").toString().contains(content)).reduce((x, y) -> y).orElseThrow();
    }

    private static void assertError(HttpResponse<String> response, int status, String type) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode error = JSON.readTree(response.body()).path("error");
        assertThat(error.path("type").asText()).isEqualTo(type);
        assertThat(error.path("message").asText()).isNotBlank();
        assertThat(error.has("param")).isTrue();
        assertThat(error.has("code")).isTrue();
    }
}
