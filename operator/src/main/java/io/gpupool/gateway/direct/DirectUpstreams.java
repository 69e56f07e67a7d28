package io.gpupool.gateway.direct;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;

/** The gateway's HTTP client to the pool's own replicas, and one {@link DirectUpstream} per replica address. */
public final class DirectUpstreams implements AutoCloseable {

    /** Connections per replica: enough for every request a replica takes at once (each stream holds one). */
    static final int MAX_CONNECTIONS_PER_REPLICA = 4096;

    private final HttpClient client;
    private final Map<String, DirectUpstream> byAddress = new ConcurrentHashMap<>();

    public DirectUpstreams(Vertx vertx) {
        HttpClientOptions options = new HttpClientOptions().setKeepAlive(true).setPipelining(false)
                .setConnectTimeout(5_000).setTryUseCompression(false)
                // A generation may run for minutes without a byte (non-streaming); idle keep-alive connections go.
                .setIdleTimeout(600).setKeepAliveTimeout(60).setTcpNoDelay(true);
        this.client = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(MAX_CONNECTIONS_PER_REPLICA)
                .setMaxWaitQueueSize(-1));
    }

    /** The upstream of a replica address (the same object while the address stays). */
    public DirectUpstream of(String host, int port) {
        return byAddress.computeIfAbsent(host + ":" + port, k -> new DirectUpstream(client, host, port));
    }

    /** Forgets addresses that are no longer replicas. */
    public void retain(Set<String> addresses) {
        byAddress.keySet().retainAll(addresses);
    }

    @Override
    public void close() {
        client.close();
    }
}
