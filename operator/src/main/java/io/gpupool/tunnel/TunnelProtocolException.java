package io.gpupool.tunnel;

/** The other end sent something the tunnel protocol does not allow: the connection is closed. */
public class TunnelProtocolException extends RuntimeException {

    public TunnelProtocolException(String message) {
        super(message);
    }
}
