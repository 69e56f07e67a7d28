package io.gpupool.core.gateway.openai;

/** The OpenAI operations the gateway forwards to engines. */
public enum Endpoint {
    CHAT_COMPLETIONS("/v1/chat/completions", true),
    COMPLETIONS("/v1/completions", true),
    EMBEDDINGS("/v1/embeddings", false);

    private final String path;
    private final boolean streams;

    Endpoint(String path, boolean streams) {
        this.path = path;
        this.streams = streams;
    }

    public String path() {
        return path;
    }

    /** Whether the operation accepts {@code "stream": true}. */
    public boolean streams() {
        return streams;
    }
}
