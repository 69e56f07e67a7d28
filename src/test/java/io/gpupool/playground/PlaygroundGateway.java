package io.gpupool.playground;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ApiKey;
import io.gpupool.api.v1alpha1.AutoscalingSpec;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationUsage;
import io.gpupool.operator.apikey.ApiKeyReconciler;
import io.gpupool.testing.ColdStartTimeline;

/**
 * The playground's calls through the pool gateway, with the official OpenAI Java client: keys are created as members
 * create them (ApiKey objects), read from their Secrets, and used; what the engines answer is SIMULATED, what the pool
 * counts is real.
 */
final class PlaygroundGateway {

    private final KubernetesClient client;
    private final String url;
    private final boolean tunnels;
    private String uniNlpKey;
    /** The models each organization called successfully: its usage must name them before it is printed. */
    private final java.util.Map<String, java.util.Set<String>> called = new java.util.TreeMap<>();

    /** @param tunnels whether home-lab's agent has a tunnel to the gateway (its models are reachable) */
    PlaygroundGateway(KubernetesClient client, String url, boolean tunnels) {
        this.client = client;
        this.url = url;
        this.tunnels = tunnels;
    }

    void demonstrate() throws InterruptedException {
        uniNlpKey = key("uni-nlp", "notebook", "Jupyter notebooks of the NLP group");
        String homeKey = key("home-collective", "laptop", "the collective's laptops");
        awaitReplicas("uni-nlp", "llama-8b");
        awaitReplicas("open-lab", "llama-70b");

        OpenAIClient uniNlp = OpenAIOkHttpClient.builder().apiKey(uniNlpKey).baseUrl(url).build();
        OpenAIClient home = OpenAIOkHttpClient.builder().apiKey(homeKey).baseUrl(url).build();
        System.out.println(Playground.wrap("uni-nlp may call: " + uniNlp.models().list().data().stream()
                .map(m -> m.id() + " (" + m.ownedBy() + ")").collect(Collectors.joining(", "))));
        ChatCompletion answer = uniNlp.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("uni-nlp/llama-8b").addUserMessage("What does a GPU pool share?").build());
        called("uni-nlp", "uni-nlp/llama-8b");
        System.out.println(Playground.wrap("uni-nlp -> uni-nlp/llama-8b (local replica): \""
                + answer.choices().get(0).message().content().orElse("") + "\", usage " + answer.usage()
                        .map(u -> u.promptTokens() + " prompt + " + u.completionTokens() + " completion tokens")
                        .orElse("-")));
        try (StreamResponse<ChatCompletionChunk> stream = uniNlp.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("uni-nlp/llama-8b").addUserMessage("Stream a haiku").build())) {
            List<String> pieces = stream.stream().map(c -> c.choices().isEmpty() ? ""
                    : c.choices().get(0).delta().content().orElse("")).toList();
            System.out.println(Playground.wrap("uni-nlp -> uni-nlp/llama-8b, streamed in " + pieces.size()
                    + " chunks: \"" + String.join("", pieces) + "\""));
        }
        ChatCompletion shared = home.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("open-lab/llama-70b").addUserMessage("Hello from the home collective").build());
        called("home-collective", "open-lab/llama-70b");
        System.out.println(Playground.wrap("home-collective -> open-lab/llama-70b (shared): \""
                + shared.choices().get(0).message().content().orElse("") + "\""));
        try {
            home.chat().completions().create(ChatCompletionCreateParams.builder().model("uni-nlp/llama-8b")
                    .addUserMessage("may I?").build());
        } catch (OpenAIServiceException e) {
            System.out.println(Playground.wrap("home-collective -> uni-nlp/llama-8b (private): HTTP " + e.statusCode()
                    + ", as expected"));
        }
        for (int i = 0; i < 5; i++) {
            home.chat().completions().create(ChatCompletionCreateParams.builder().model("open-lab/llama-70b")
                    .addUserMessage("question " + i).build());
        }
        callThroughTheTunnel(home);
        printUsage(List.of("uni-nlp", "home-collective"));
    }

    /** The home collective's Qwen coder runs in home-lab, behind its NAT: the gateway reaches it through the tunnel. */
    private void callThroughTheTunnel(OpenAIClient home) throws InterruptedException {
        String model = "home-collective/qwen-coder";
        if (!tunnels) {
            System.out.println(Playground.wrap("home-collective -> " + model + " (" + Playground.HOME_LAB
                    + "): skipped, no tunnel on the embedded API server (run with the real one to see it)"));
            return;
        }
        Instant deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline) && reachable("home-collective", "qwen-coder") == 0) {
            Thread.sleep(500);
        }
        System.out.println(Playground.wrap("the gateway reaches " + reachable("home-collective", "qwen-coder")
                + " replica(s) of " + model + " in " + Playground.HOME_LAB + " through its agent's tunnel "
                + "(ModelDeployment status.replicas.reachable)"));
        try {
            ChatCompletion answer = home.chat().completions().create(ChatCompletionCreateParams.builder().model(model)
                    .addUserMessage("Write a function that adds two numbers").build());
            called("home-collective", model);
            System.out.println(Playground.wrap("home-collective -> " + model + " (" + Playground.HOME_LAB
                    + ", behind NAT, through the tunnel): \"" + answer.choices().get(0).message().content().orElse("")
                    + "\""));
            try (StreamResponse<ChatCompletionChunk> stream = home.chat().completions().createStreaming(
                    ChatCompletionCreateParams.builder().model(model).addUserMessage("Stream it").build())) {
                long chunks = stream.stream().count();
                System.out.println(Playground.wrap("home-collective -> " + model + ", streamed through the tunnel in "
                        + chunks + " chunks"));
            }
        } catch (OpenAIServiceException e) {
            System.out.println(Playground.wrap("home-collective -> " + model + ": HTTP " + e.statusCode() + " "
                    + e.getMessage() + " (see gateway.log and agent-" + Playground.HOME_LAB + ".log)"));
        }
    }

    private void called(String organization, String model) {
        called.computeIfAbsent(organization, o -> new java.util.TreeSet<>()).add(model);
    }

    /** Whether the organization's usage in its status names every model it called. */
    private boolean counted(String organization) {
        OrganizationUsage u = usage(organization);
        return u != null && u.models != null && u.models.stream().map(m -> m.model).collect(Collectors.toSet())
                .containsAll(called.getOrDefault(organization, java.util.Set.of()));
    }

    private int reachable(String namespace, String name) {
        ModelDeployment md = client.resources(ModelDeployment.class).inNamespace(namespace).withName(name).get();
        return md == null || md.getStatus() == null || md.getStatus().replicas == null
                || md.getStatus().replicas.reachable == null ? 0 : md.getStatus().replicas.reachable;
    }

    /** Waits until the gateway reports the counts (every 2 s) and the operator folded them; prints them. */
    private void printUsage(List<String> organizations) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)
                && organizations.stream().anyMatch(o -> !counted(o))) {
            Thread.sleep(500);
        }
        System.out.println("   tokens counted by the pool (Organization status.usage, summed over the gateway's reports):");
        for (String org : organizations) {
            OrganizationUsage u = usage(org);
            System.out.printf("     %-16s %3d requests, %5d prompt + %4d completion tokens%s%n", org,
                    u == null ? 0 : u.requests, u == null ? 0 : u.promptTokens, u == null ? 0 : u.completionTokens,
                    u == null ? "" : "  (" + u.models.stream().map(m -> m.model + "@" + m.cluster + ": " + m.requests)
                            .collect(Collectors.joining(", ")) + ")");
        }
    }

    /**
     * Scale from zero: an autoscaled copy of uni-nlp's Llama 8B with minReplicas 0 holds no GPU; its first request is
     * held by the gateway, which tells the operator at once; the operator admits a replica and creates its Deployment;
     * the answer comes once the replica has started and (SIMULATED) loaded the model. Prints each step's time.
     */
    void scaleFromZero(String gatewayNamespace) throws Exception {
        ModelDeployment md = Serialization.unmarshal(Files.readString(Path.of("examples",
                "10-modeldeployment-llama-8b.yaml")), ModelDeployment.class);
        String name = "llama-8b-autoscaled";
        md.getMetadata().setName(name);
        md.getSpec().servedModelName = null;
        md.getSpec().autoscaling = new AutoscalingSpec();
        md.getSpec().autoscaling.minReplicas = 0;
        md.getSpec().autoscaling.maxReplicas = 2;
        md.getSpec().autoscaling.targetInFlightPerReplica = 4;
        md.getSpec().autoscaling.scaleDownDelaySeconds = 60;
        client.resource(md).createOr(r -> r.update());
        String served = "uni-nlp/" + name;
        OpenAIClient uniNlp = OpenAIOkHttpClient.builder().apiKey(uniNlpKey).baseUrl(url).build();
        Instant deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline) && uniNlp.models().list().data().stream()
                .noneMatch(m -> m.id().equals(served))) {
            Thread.sleep(300);
        }
        ModelDeployment idle = client.resources(ModelDeployment.class).inNamespace("uni-nlp").withName(name).get();
        System.out.println(Playground.wrap(served + " (minReplicas 0): " + (idle.getStatus() == null
                || idle.getStatus().replicas == null ? 0 : idle.getStatus().replicas.admitted)
                + " replica(s), no GPU held while nobody calls it"));
        try (ColdStartTimeline timeline = new ColdStartTimeline(client, gatewayNamespace, "uni-nlp", name)) {
            timeline.arrived();
            ChatCompletion answer = uniNlp.chat().completions().create(ChatCompletionCreateParams.builder()
                    .model(served).addUserMessage("Wake up").build());
            timeline.answered();
            deadline = Instant.now().plusSeconds(60);
            while (!timeline.complete() && Instant.now().isBefore(deadline)) {
                Thread.sleep(100);
            }
            System.out.println(Playground.wrap("uni-nlp -> " + served + " (cold start): \""
                    + answer.choices().get(0).message().content().orElse("") + "\""));
            System.out.println(Playground.wrap(timeline.figure()));
        }
        ModelDeployment woke = client.resources(ModelDeployment.class).inNamespace("uni-nlp").withName(name).get();
        System.out.println(Playground.wrap("status.autoscaling: " + woke.getStatus().autoscaling.reason + ", "
                + woke.getStatus().autoscaling.message + " Idle again, it gives its GPU back after "
                + md.getSpec().autoscaling.scaleDownDelaySeconds + " s."));
    }

    /** What to paste to call the gateway oneself. */
    void printTryIt() {
        System.out.println("  Call the pool's gateway yourself (uni-nlp's key; replies are SIMULATED):");
        System.out.println("    export OPENAI_BASE_URL=" + url);
        System.out.println("    export OPENAI_API_KEY=" + uniNlpKey);
        System.out.println("    curl -s $OPENAI_BASE_URL/models -H \"Authorization: Bearer $OPENAI_API_KEY\"");
        System.out.println("    curl -s $OPENAI_BASE_URL/chat/completions -H \"Authorization: Bearer $OPENAI_API_KEY\" "
                + "-H 'Content-Type: application/json' \\");
        System.out.println("      -d '{\"model\":\"uni-nlp/llama-8b\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Hi\"}],\"stream\":true}'");
        System.out.println("    kubectl get apikeys -A; kubectl get org -o "
                + "custom-columns=ORG:.metadata.name,TOKENS:.status.usage.completionTokens");
    }

    private String key(String namespace, String name, String description) throws InterruptedException {
        ApiKey key = new ApiKey();
        key.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
        key.getSpec().description = description;
        client.resource(key).createOr(r -> r.update());
        Instant deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline)) {
            ApiKey k = client.resources(ApiKey.class).inNamespace(namespace).withName(name).get();
            if (k != null && k.getStatus() != null && k.getStatus().secretName != null) {
                var secret = client.secrets().inNamespace(namespace).withName(k.getStatus().secretName).get();
                System.out.println(Playground.wrap("ApiKey " + namespace + "/" + name + ": organization "
                        + k.getStatus().organization + ", value in Secret " + k.getStatus().secretName + ", hash "
                        + k.getStatus().keyHash.substring(0, 19) + "..."));
                return new String(Base64.getDecoder().decode(secret.getData().get(ApiKeyReconciler.SECRET_KEY)),
                        StandardCharsets.UTF_8);
            }
            Thread.sleep(300);
        }
        throw new IllegalStateException("The operator did not issue ApiKey " + namespace + "/" + name);
    }

    private void awaitReplicas(String namespace, String name) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (Instant.now().isBefore(deadline)) {
            ModelDeployment md = client.resources(ModelDeployment.class).inNamespace(namespace).withName(name).get();
            if (md != null && md.getStatus() != null && md.getStatus().replicas != null
                    && md.getStatus().replicas.ready > 0) {
                return;
            }
            Thread.sleep(500);
        }
    }

    private OrganizationUsage usage(String org) {
        Organization o = client.resources(Organization.class).withName(org).get();
        return o == null || o.getStatus() == null ? null : o.getStatus().usage;
    }
}
