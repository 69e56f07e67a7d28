package io.gpupool.gateway.direct;

import io.gpupool.gateway.upstream.Upstream;
import io.gpupool.gateway.upstream.UpstreamRequest;
import io.gpupool.gateway.upstream.UpstreamResponse;
import io.gpupool.gateway.upstream.UpstreamUnavailableException;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.streams.ReadStream;

/**
 * A replica of the pool's own cluster, reached by pod IP and the serving port with the gateway's pooled HTTP/1.1
 * client (keep-alive connections, one request per connection at a time, so a stream never waits behind another).
 */
public final class DirectUpstream implements Upstream {

    private final HttpClient client;
    private final String host;
    private final int port;
    private final String describe;

    DirectUpstream(HttpClient client, String host, int port) {
        this.client = client;
        this.host = host;
        this.port = port;
        this.describe = "local/" + host + ":" + port;
    }

    @Override
    public Future<UpstreamResponse> send(UpstreamRequest request) {
        RequestOptions options = new RequestOptions().setHost(host).setPort(port).setMethod(request.method())
                .setURI(request.path()).setHeaders(request.headers());
        return client.request(options)
                .recover(e -> Future.failedFuture(new UpstreamUnavailableException(describe + ": " + e.getMessage(), e)))
                .compose(req -> req.send(request.body()).map(resp -> {
                    // Paused at once, on the connection's thread: no body chunk is handled before the caller is ready.
                    resp.pause();
                    return (UpstreamResponse) new Response(req, resp);
                }).recover(e -> {
                    req.reset();
                    return Future.failedFuture(new UpstreamUnavailableException(describe + ": " + e.getMessage(), e));
                }));
    }

    @Override
    public String describe() {
        return describe;
    }

    private record Response(HttpClientRequest request, HttpClientResponse response) implements UpstreamResponse {

        @Override
        public int statusCode() {
            return response.statusCode();
        }

        @Override
        public MultiMap headers() {
            return response.headers();
        }

        @Override
        public ReadStream<Buffer> body() {
            return response;
        }

        @Override
        public void cancel() {
            // Resets the stream: on HTTP/1.1 the connection is closed, and the engine aborts the generation.
            request.reset();
        }
    }
}
