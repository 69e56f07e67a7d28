package io.gpupool.tunnel;

import java.nio.charset.StandardCharsets;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * One frame of the tunnel protocol, carried as one binary WebSocket message: {@code type (1 byte) | flags (1 byte) |
 * stream (4 bytes) | payload}. The pool opens a stream per request (stream ids are the pool's); stream 0 carries what
 * concerns the whole connection.
 *
 * <p>Like konnectivity's packets (DIAL, DATA, CLOSE over one gRPC stream) with what konnectivity lacks: a window per
 * stream as in HTTP/2, so a slow client holds back its own response and no other, and a reset that reaches the engine.
 *
 * @param type    what the frame carries
 * @param stream  the request it belongs to, or 0
 * @param end     the sender sends nothing more on this stream (HTTP/2's END_STREAM)
 * @param payload the type's payload
 */
public record Frame(Type type, int stream, boolean end, Buffer payload) {

    /** Bytes before the payload. */
    public static final int HEADER = 6;
    /**
     * Largest payload of one frame: a frame fits one WebSocket frame of Vert.x's default maximum (65,536 bytes), so
     * neither end has to reassemble fragments, and a long body interleaves with other streams.
     */
    public static final int MAX_PAYLOAD = 60 * 1024;
    private static final int END = 1;

    public enum Type {
        /** Pool to agent: a request's head (JSON) followed by as much of its body as fits. */
        REQUEST,
        /** Agent to pool: the response's head (JSON): status and headers. */
        RESPONSE,
        /** Either way: body bytes of the stream. */
        DATA,
        /** Pool to agent: the pool has consumed this many more response bytes (a 4-byte integer). */
        WINDOW,
        /** Either way: the stream ends abnormally; a {@link Reset} code byte and a UTF-8 reason. */
        RESET,
        /** Agent to pool, stream 0: the ready replicas of each of its current works (JSON). */
        REPLICAS,
        /** Agent to pool, stream 0: the agent's current hub token (UTF-8), when it changed. */
        CREDENTIALS,
        /** Pool to agent, stream 0, first frame: who this gateway is (JSON, see {@link Hello}). */
        HELLO;

        private static final Type[] VALUES = values();
    }

    /** Why a stream was reset. */
    public enum Reset {
        /** Pool to agent: the client went away; stop the engine. */
        CANCEL,
        /** The request did not reach an engine (unknown replica, refused connection): it may be retried elsewhere. */
        UNAVAILABLE,
        /** The agent refuses the request: not one of its cluster's current works. */
        REFUSED,
        /** The engine or the path to it failed after the response began. */
        BROKEN;

        private static final Reset[] VALUES = values();
    }

    public Buffer encode() {
        return Buffer.buffer(HEADER + payload.length()).appendByte((byte) type.ordinal()).appendByte((byte) (end ? END : 0))
                .appendInt(stream).appendBuffer(payload);
    }

    public static Frame decode(Buffer message) {
        if (message.length() < HEADER) {
            throw new TunnelProtocolException("frame of " + message.length() + " bytes is shorter than its header");
        }
        int type = message.getByte(0);
        if (type < 0 || type >= Type.VALUES.length) {
            throw new TunnelProtocolException("unknown frame type " + type);
        }
        return new Frame(Type.VALUES[type], message.getInt(2), (message.getByte(1) & END) != 0,
                message.slice(HEADER, message.length()));
    }

    // ---- payloads -------------------------------------------------------------------------------------------------

    /** A head (JSON, encoded) followed by body bytes: {@code length of the head (4 bytes) | head | body}. */
    public static Buffer headAndBody(Buffer json, Buffer body, int bodyFrom, int bodyTo) {
        Buffer out = Buffer.buffer(4 + json.length() + (bodyTo - bodyFrom)).appendInt(json.length()).appendBuffer(json);
        if (bodyTo > bodyFrom) {
            out.appendBuffer(body, bodyFrom, bodyTo - bodyFrom);
        }
        return out;
    }

    public JsonObject head() {
        int length = payload.getInt(0);
        if (length < 0 || 4 + length > payload.length()) {
            throw new TunnelProtocolException("head of " + length + " bytes does not fit a " + type + " frame");
        }
        return new JsonObject(payload.slice(4, 4 + length));
    }

    /** The body bytes after the head of a REQUEST or RESPONSE frame. */
    public Buffer bodyAfterHead() {
        return payload.slice(4 + payload.getInt(0), payload.length());
    }

    public static Frame window(int stream, int bytes) {
        return new Frame(Type.WINDOW, stream, false, Buffer.buffer(4).appendInt(bytes));
    }

    public int windowIncrement() {
        return payload.getInt(0);
    }

    public static Frame reset(int stream, Reset code, String reason) {
        return new Frame(Type.RESET, stream, true,
                Buffer.buffer().appendByte((byte) code.ordinal()).appendString(reason == null ? "" : reason));
    }

    public Reset resetCode() {
        int code = payload.length() == 0 ? Reset.BROKEN.ordinal() : payload.getByte(0);
        return code >= 0 && code < Reset.VALUES.length ? Reset.VALUES[code] : Reset.BROKEN;
    }

    public String resetReason() {
        return payload.length() <= 1 ? "" : payload.getString(1, payload.length(), StandardCharsets.UTF_8.name());
    }

    public static Frame data(int stream, Buffer bytes, boolean end) {
        return new Frame(Type.DATA, stream, end, bytes);
    }

    public static Frame json(Type type, JsonObject json) {
        return new Frame(type, 0, false, json.toBuffer());
    }

    public JsonObject json() {
        return new JsonObject(payload);
    }

    public static Frame text(Type type, String text) {
        return new Frame(type, 0, false, Buffer.buffer(text, StandardCharsets.UTF_8.name()));
    }

    public String text() {
        return payload.toString(StandardCharsets.UTF_8);
    }

    /**
     * The gateway's first frame.
     *
     * @param gateway  this gateway replica's id (new at every start)
     * @param gateways how many gateway replicas there are: the agent keeps a tunnel to each, found through the one URL
     *                 (its load balancer), as konnectivity's agents do with its proxy servers
     */
    public record Hello(String gateway, int gateways) {

        public Frame frame() {
            return json(Type.HELLO, new JsonObject().put("gateway", gateway).put("gateways", gateways));
        }

        public static Hello of(Frame f) {
            JsonObject j = f.json();
            return new Hello(j.getString("gateway"), j.getInteger("gateways", 1));
        }
    }
}
