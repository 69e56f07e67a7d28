package io.gpupool.tunnel;

/**
 * The pool refuses a tunnel: the token is not valid there ({@code 401}), or it is not the credential of that cluster's
 * agent ({@code 403}). The message says which, for the agent's log.
 */
public class TunnelRefusedException extends RuntimeException {

    private final int status;

    public TunnelRefusedException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The HTTP status the refusal answers with (and, plus 4000, the WebSocket close code of an open tunnel). */
    public int status() {
        return status;
    }
}
