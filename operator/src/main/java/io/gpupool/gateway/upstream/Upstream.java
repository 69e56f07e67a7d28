package io.gpupool.gateway.upstream;

import io.vertx.core.Future;

/**
 * One way to reach the OpenAI-compatible server of a replica (or of a set of replicas behind one address): directly by
 * pod IP in the pool's own cluster, or through the tunnel a contributed cluster's agent opened to the gateway. The
 * gateway's routing, queuing and metering do not care which: they send an {@link UpstreamRequest} and stream the
 * {@link UpstreamResponse} back.
 */
public interface Upstream {

    /**
     * Sends one request. The returned future completes with the response head as soon as it arrives; the body then
     * streams through {@link UpstreamResponse#body()} chunk by chunk, never buffered whole.
     *
     * @return a future that fails with {@link UpstreamUnavailableException} when the request never reached the engine
     *         or no response byte came back (the gateway may retry it once on another replica); any failure after the
     *         first response byte is reported on the body stream instead
     */
    Future<UpstreamResponse> send(UpstreamRequest request);

    /** Who this is, for logs and metrics: e.g. {@code local/10.0.3.7:8000} or {@code home-lab/qwen-coder-1a2b}. */
    String describe();
}
