package io.gpupool.core.gateway.openai;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What the gateway needs from an OpenAI request body, read once: the model, whether it streams, an estimate of its
 * prompt tokens and max_tokens (for fair queuing), the beginning of its prompt (for prefix affinity), and the body to
 * send to the engine: the client's own bytes, except that a streaming request that did not ask for usage asks for it
 * ({@code stream_options.include_usage}), so that the gateway can meter it (the extra chunk is removed again on the way
 * back, see {@link SseUsageFilter}).
 *
 * @param addedUsageChunk the gateway asked for the usage chunk, and must remove it from the client's stream
 */
public record OpenAiRequest(String model, boolean stream, boolean addedUsageChunk, long promptTokens, Long maxTokens,
        String prefix, byte[] upstreamBody) {

    /** Characters of the prompt that prefix affinity hashes (KubeAI's prefixCharLength default). */
    public static final int PREFIX_CHARS = 100;
    /** Rough characters per token for the estimate (English text with common tokenizers). */
    static final int CHARS_PER_TOKEN = 4;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The request, or the 400 to answer. */
    public sealed interface Parsed {
    }

    public record Ok(OpenAiRequest request) implements Parsed {
    }

    public record Invalid(OpenAiError error) implements Parsed {
    }

    public static Parsed parse(Endpoint endpoint, byte[] body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            return new Invalid(OpenAiError.badRequest("We could not parse the JSON body of your request: "
                    + firstLine(e.getMessage()), null));
        }
        if (root == null || !root.isObject()) {
            return new Invalid(OpenAiError.badRequest("The request body must be a JSON object.", null));
        }
        JsonNode model = root.get("model");
        if (model == null || model.isNull()) {
            return new Invalid(OpenAiError.badRequest("You must provide a model parameter.", "model"));
        }
        if (!model.isTextual() || model.asText().isEmpty()) {
            return new Invalid(OpenAiError.badRequest("'model' must be a non-empty string.", "model"));
        }
        JsonNode streamNode = root.get("stream");
        if (streamNode != null && !streamNode.isNull() && !streamNode.isBoolean()) {
            return new Invalid(OpenAiError.badRequest("'stream' must be a boolean.", "stream"));
        }
        boolean stream = endpoint.streams() && streamNode != null && streamNode.asBoolean();
        Prompt prompt = new Prompt();
        switch (endpoint) {
            case CHAT_COMPLETIONS -> {
                JsonNode messages = root.get("messages");
                if (messages == null || !messages.isArray()) {
                    return new Invalid(OpenAiError.badRequest("You must provide 'messages', an array.", "messages"));
                }
                for (JsonNode m : messages) {
                    prompt.content(m.get("content"));
                }
            }
            case COMPLETIONS -> prompt.content(root.get("prompt"));
            case EMBEDDINGS -> prompt.content(root.get("input"));
        }
        Long maxTokens = null;
        for (String field : new String[] { "max_completion_tokens", "max_tokens" }) {
            JsonNode n = root.get(field);
            if (n != null && n.canConvertToLong()) {
                maxTokens = n.asLong();
                break;
            }
        }
        boolean addUsage = false;
        byte[] upstream = body;
        if (stream) {
            JsonNode options = root.get("stream_options");
            boolean asked = options != null && options.isObject() && options.path("include_usage").asBoolean(false);
            if (!asked) {
                ObjectNode copy = ((ObjectNode) root).deepCopy();
                ObjectNode opts = options != null && options.isObject() ? (ObjectNode) options.deepCopy()
                        : JSON.createObjectNode();
                opts.put("include_usage", true);
                copy.set("stream_options", opts);
                try {
                    upstream = JSON.writeValueAsBytes(copy);
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
                addUsage = true;
            }
        }
        return new Ok(new OpenAiRequest(model.asText(), stream, addUsage, prompt.tokens(), maxTokens,
                prompt.prefix.toString(), upstream));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "malformed JSON";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Walks prompt content (strings, arrays of strings or token ids, chat content parts) for the estimate. */
    private static final class Prompt {
        final StringBuilder prefix = new StringBuilder();
        long chars;
        long tokenIds;

        void content(JsonNode n) {
            if (n == null || n.isNull()) {
                return;
            }
            if (n.isTextual()) {
                text(n.asText());
            } else if (n.isIntegralNumber()) {
                tokenIds++;
            } else if (n.isArray()) {
                for (JsonNode e : n) {
                    content(e);
                }
            } else if (n.isObject()) {
                // A chat content part: {"type": "text", "text": "..."}; images and audio are not estimated.
                JsonNode text = n.get("text");
                if (text != null && text.isTextual()) {
                    text(text.asText());
                }
            }
        }

        void text(String s) {
            chars += s.length();
            if (prefix.length() < PREFIX_CHARS) {
                prefix.append(s, 0, Math.min(s.length(), PREFIX_CHARS - prefix.length()));
            }
        }

        long tokens() {
            return tokenIds + (chars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN;
        }
    }
}
