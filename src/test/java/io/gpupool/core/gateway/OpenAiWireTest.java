package io.gpupool.core.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpupool.core.gateway.openai.Endpoint;
import io.gpupool.core.gateway.openai.OpenAiError;
import io.gpupool.core.gateway.openai.OpenAiRequest;
import io.gpupool.core.gateway.openai.SseUsageFilter;
import io.gpupool.core.gateway.openai.UsageScanner;

/** What the gateway reads and rewrites on the wire: requests, streamed events, usage in any chunking. */
class OpenAiWireTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsModelStreamPromptEstimateAndPrefixAndAsksForUsageOnlyWhenTheClientDidNot() throws Exception {
        String system = "s".repeat(150);
        var ok = (OpenAiRequest.Ok) OpenAiRequest.parse(Endpoint.CHAT_COMPLETIONS, b("{\"model\":\"m\",\"stream\":true,"
                + "\"max_tokens\":64,\"messages\":[{\"role\":\"system\",\"content\":\"" + system + "\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hello\"}]}]}"));
        OpenAiRequest r = ok.request();
        assertThat(r.model()).isEqualTo("m");
        assertThat(r.stream()).isTrue();
        assertThat(r.maxTokens()).isEqualTo(64);
        assertThat(r.promptTokens()).isEqualTo((150 + 5 + 3) / 4);
        assertThat(r.prefix()).isEqualTo(system.substring(0, 100));
        assertThat(r.addedUsageChunk()).isTrue();
        assertThat(JSON.readTree(r.upstreamBody()).path("stream_options").path("include_usage").asBoolean()).isTrue();

        byte[] asked = b("{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[]}");
        var same = ((OpenAiRequest.Ok) OpenAiRequest.parse(Endpoint.CHAT_COMPLETIONS, asked)).request();
        assertThat(same.addedUsageChunk()).isFalse();
        assertThat(same.upstreamBody()).isSameAs(asked);

        var embed = ((OpenAiRequest.Ok) OpenAiRequest.parse(Endpoint.EMBEDDINGS,
                b("{\"model\":\"e\",\"stream\":true,\"input\":[[1,2,3],\"abcd\"]}"))).request();
        assertThat(embed.stream()).isFalse();
        assertThat(embed.promptTokens()).isEqualTo(4);
    }

    @Test
    void malformedOrIncompleteRequestsAre400s() {
        for (String body : List.of("{", "[]", "{\"messages\":[]}", "{\"model\":3,\"messages\":[]}",
                "{\"model\":\"m\",\"stream\":\"yes\",\"messages\":[]}", "{\"model\":\"m\"}")) {
            var parsed = OpenAiRequest.parse(Endpoint.CHAT_COMPLETIONS, b(body));
            assertThat(parsed).as(body).isInstanceOfSatisfying(OpenAiRequest.Invalid.class,
                    i -> assertThat(i.error().status()).isEqualTo(400));
        }
        assertThat(OpenAiError.queueFull("m", 3).json()).contains("\"type\":\"rate_limit_error\"", "\"param\":null");
    }

    @Test
    void findsTheUsageOfAJsonBodyHoweverItIsChunked() {
        String body = "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"usage: {not this}\"},"
                + "\"usage\":{\"prompt_tokens\":99}}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,"
                + "\"total_tokens\":46}}";
        for (int size : new int[] { 1, 3, 7, body.length() }) {
            UsageScanner scanner = new UsageScanner();
            for (int i = 0; i < body.length(); i += size) {
                scanner.feed(b(body.substring(i, Math.min(body.length(), i + size))));
            }
            assertThat(scanner.usage().reported()).isTrue();
            assertThat(scanner.usage().promptTokens()).isEqualTo(12);
            assertThat(scanner.usage().completionTokens()).isEqualTo(34);
        }
        UsageScanner notJson = new UsageScanner();
        notJson.feed(b("<html>502 Bad Gateway</html>"));
        assertThat(notJson.usage().reported()).isFalse();
    }

    @Test
    void passesEventsThroughAsTheyCompleteAndRemovesOnlyTheUsageChunkItAskedFor() {
        String chunk1 = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n";
        String chunk2 = "data: {\"choices\":[{\"delta\":{\"content\":\" there\"}}],\"usage\":null}\n\n";
        String usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n";
        String done = "data: [DONE]\n\n";
        String stream = chunk1 + chunk2 + usage + done;
        for (int size : new int[] { 1, 5, 17, stream.length() }) {
            SseUsageFilter removing = new SseUsageFilter(true);
            SseUsageFilter keeping = new SseUsageFilter(false);
            StringBuilder outRemoving = new StringBuilder();
            StringBuilder outKeeping = new StringBuilder();
            List<Integer> emittedAt = new ArrayList<>();
            for (int i = 0; i < stream.length(); i += size) {
                byte[] piece = b(stream.substring(i, Math.min(stream.length(), i + size)));
                String out = new String(removing.accept(piece), StandardCharsets.UTF_8);
                if (!out.isEmpty()) {
                    emittedAt.add(i + piece.length);
                }
                outRemoving.append(out);
                outKeeping.append(new String(keeping.accept(piece), StandardCharsets.UTF_8));
            }
            outRemoving.append(new String(removing.finish(), StandardCharsets.UTF_8));
            outKeeping.append(new String(keeping.finish(), StandardCharsets.UTF_8));
            assertThat(outRemoving.toString()).isEqualTo(chunk1 + chunk2 + done);
            assertThat(outKeeping.toString()).isEqualTo(stream);
            assertThat(removing.usage().completionTokens()).isEqualTo(2);
            assertThat(keeping.usage().promptTokens()).isEqualTo(5);
            // The first event leaves as soon as its blank line has arrived, not at the end.
            assertThat(emittedAt.get(0)).isLessThanOrEqualTo(Math.max(chunk1.length() + size - 1, size));
        }
    }
}
