package io.gpupool.tunnel;

import io.gpupool.gateway.upstream.UpstreamResponse;
import io.gpupool.gateway.upstream.UpstreamUnavailableException;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.impl.InboundBuffer;

/**
 * The pool's end of one request through a tunnel. The head completes {@link #head()} and the body streams through
 * {@link #body()}, both on the caller's context (the gateway's request handler runs where it always runs). The agent
 * may send {@code window} bytes of body ahead of what the caller consumed; the stream grants more as the caller's
 * handler takes chunks, so a paused caller (its client reads slowly) holds back this response only.
 *
 * <p>Frames arrive on the tunnel's context and are handed over with {@link ContextInternal#execute}, which runs at once
 * when both are the same event loop.
 */
final class PoolStream implements UpstreamResponse {

    /** Marks the end of the body in the inbound buffer. */
    private static final Object END = new Object();

    private final int id;
    private final String pod;
    private final TunnelConnection tunnel;
    private final ContextInternal caller;
    private final int window;
    private final Promise<UpstreamResponse> head;
    private final InboundBuffer<Object> inbound;
    private final Body body = new Body();
    private int status;
    private MultiMap headers;
    /** Set once on the caller's context: the response has begun (a head arrived). */
    private boolean responded;
    /** Set once on the caller's context: nothing more is delivered (ended, failed or cancelled). */
    private boolean finished;
    /** Bytes the caller consumed that the agent has not been told about yet. */
    private int unacknowledged;
    private Handler<Buffer> dataHandler;
    private Handler<Void> endHandler;
    private Handler<Throwable> exceptionHandler;

    PoolStream(int id, String pod, TunnelConnection tunnel, ContextInternal caller, int window) {
        this.id = id;
        this.pod = pod;
        this.tunnel = tunnel;
        this.caller = caller;
        this.window = window;
        this.head = caller.promise();
        this.inbound = new InboundBuffer<>(caller).pause();
        inbound.handler(this::deliver);
    }

    int id() {
        return id;
    }

    String pod() {
        return pod;
    }

    io.vertx.core.Future<UpstreamResponse> head() {
        return head.future();
    }

    // ---- from the tunnel (any thread) --------------------------------------------------------------------------------

    void onHead(Heads.Response response) {
        caller.execute(() -> {
            if (finished || responded) {
                return;
            }
            status = response.status();
            headers = response.headers();
            responded = true;
            head.tryComplete(this);
        });
    }

    void onData(Buffer chunk, boolean end) {
        caller.execute(() -> {
            if (finished) {
                return;
            }
            if (chunk.length() > 0) {
                inbound.write(chunk);
            }
            if (end) {
                inbound.write(END);
            }
        });
    }

    /** The agent reset the stream, or the tunnel broke. */
    void onFailure(Frame.Reset code, String reason) {
        caller.execute(() -> {
            if (finished) {
                return;
            }
            if (!responded) {
                finished = true;
                head.tryFail(new UpstreamUnavailableException(tunnel.describe() + ": " + reason));
                return;
            }
            inbound.write(new TunnelStreamException(code, tunnel.describe() + ": " + reason));
        });
    }

    // ---- the caller's side (its context) -----------------------------------------------------------------------------

    private void deliver(Object item) {
        if (finished) {
            return;
        }
        if (item == END) {
            finish();
            if (endHandler != null) {
                endHandler.handle(null);
            }
        } else if (item instanceof TunnelStreamException failure) {
            finish();
            if (exceptionHandler != null) {
                exceptionHandler.handle(failure);
            }
        } else {
            Buffer chunk = (Buffer) item;
            unacknowledged += chunk.length();
            if (unacknowledged >= window / 2) {
                tunnel.write(Frame.window(id, unacknowledged));
                unacknowledged = 0;
            }
            if (dataHandler != null) {
                dataHandler.handle(chunk);
            }
        }
    }

    private void finish() {
        finished = true;
        tunnel.forget(this);
    }

    @Override
    public int statusCode() {
        return status;
    }

    @Override
    public MultiMap headers() {
        return headers;
    }

    @Override
    public ReadStream<Buffer> body() {
        return body;
    }

    @Override
    public void cancel() {
        caller.execute(() -> {
            if (finished) {
                return;
            }
            finish();
            inbound.clear();
            head.tryFail(new UpstreamUnavailableException(tunnel.describe() + ": cancelled"));
            tunnel.write(Frame.reset(id, Frame.Reset.CANCEL, "the client went away"));
        });
    }

    /** The body as a Vert.x stream: paused until a handler is set (or it is resumed). */
    private final class Body implements ReadStream<Buffer> {

        private boolean explicitlyPaused;

        @Override
        public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
            exceptionHandler = handler;
            return this;
        }

        @Override
        public ReadStream<Buffer> handler(Handler<Buffer> handler) {
            dataHandler = handler;
            if (handler != null && !explicitlyPaused) {
                inbound.resume();
            }
            return this;
        }

        @Override
        public ReadStream<Buffer> pause() {
            explicitlyPaused = true;
            inbound.pause();
            return this;
        }

        @Override
        public ReadStream<Buffer> resume() {
            explicitlyPaused = false;
            inbound.resume();
            return this;
        }

        @Override
        public ReadStream<Buffer> fetch(long amount) {
            inbound.fetch(amount);
            return this;
        }

        @Override
        public ReadStream<Buffer> endHandler(Handler<Void> handler) {
            endHandler = handler;
            return this;
        }
    }
}
