package io.gpupool.gateway.upstream;

/**
 * The request did not reach the engine, or the path to it broke before the first response byte: nothing was generated
 * for it, so the gateway may send it once more to another replica.
 */
public class UpstreamUnavailableException extends RuntimeException {

    public UpstreamUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    public UpstreamUnavailableException(String message) {
        super(message);
    }
}
