package io.gpupool.core.gateway.openai;

/** Tokens of one request, as the engine's {@code usage} reported them (or as estimated when it did not). */
public record Usage(long promptTokens, long completionTokens, boolean reported) {

    public static final Usage NONE = new Usage(0, 0, false);

    public long total() {
        return promptTokens + completionTokens;
    }
}
