package io.gpupool.tunnel;

/**
 * A response that had begun broke: the agent reset it (the engine failed), or the tunnel went down. Reported on the
 * body stream of an {@link io.gpupool.gateway.upstream.UpstreamResponse}; the gateway ends its client's response with
 * a clean error.
 */
public class TunnelStreamException extends RuntimeException {

    private final Frame.Reset code;

    public TunnelStreamException(Frame.Reset code, String message) {
        super(message);
        this.code = code;
    }

    public Frame.Reset code() {
        return code;
    }
}
