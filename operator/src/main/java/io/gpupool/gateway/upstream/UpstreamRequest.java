package io.gpupool.gateway.upstream;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;

/**
 * A request as the gateway forwards it to an engine: the client's method and path (with query), the headers the engine
 * may see (never {@code Authorization}: the gateway removes it, and the caller's key never leaves the gateway), and
 * the whole body (OpenAI requests are small JSON documents, already parsed and possibly rewritten by the gateway).
 */
public record UpstreamRequest(HttpMethod method, String path, MultiMap headers, Buffer body) {
}
