package io.gpupool.gateway.upstream;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/** The engine's answer: status and headers at once, the body as a stream (SSE chunks pass through one by one). */
public interface UpstreamResponse {

    int statusCode();

    MultiMap headers();

    /**
     * The body, chunk by chunk as the engine sends it; paused until the caller sets a handler or resumes it. Ends with
     * the end handler, or fails with the exception handler when the engine or the path to it breaks mid-body.
     */
    ReadStream<Buffer> body();

    /** Aborts the request at the engine (the client went away): the engine stops generating for it. */
    void cancel();
}
