package io.gpupool.tunnel;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Request and response heads as the tunnel carries them (JSON in REQUEST and RESPONSE frames). Headers travel as
 * [name, value] pairs, so repeated headers and their order survive; hop-by-hop headers (RFC 9110 section 7.6.1) stay on
 * their hop, and {@code Authorization} never travels: a caller's key stays at the gateway.
 */
public final class Heads {

    private static final Set<String> NOT_FORWARDED = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate", "host",
            "authorization");

    private Heads() {
    }

    /** What the pool asks the agent to send to one replica of one of its works. */
    public record Request(String work, String replica, HttpMethod method, String path, MultiMap headers, int window) {

        public JsonObject toJson() {
            return new JsonObject().put("work", work).put("replica", replica).put("method", method.name())
                    .put("path", path).put("headers", Heads.toJson(headers)).put("window", window);
        }

        public static Request of(JsonObject j) {
            String path = j.getString("path");
            if (path == null || !path.startsWith("/")) {
                throw new TunnelProtocolException("request path must start with /, got " + path);
            }
            return new Request(j.getString("work"), j.getString("replica"), HttpMethod.valueOf(j.getString("method")),
                    path, Heads.headers(j.getJsonArray("headers")), j.getInteger("window", 0));
        }
    }

    /** The engine's response head. */
    public record Response(int status, MultiMap headers) {

        public JsonObject toJson() {
            return new JsonObject().put("status", status).put("headers", Heads.toJson(headers));
        }

        public static Response of(JsonObject j) {
            return new Response(j.getInteger("status"), Heads.headers(j.getJsonArray("headers")));
        }
    }

    static JsonArray toJson(MultiMap headers) {
        JsonArray out = new JsonArray();
        if (headers != null) {
            for (Map.Entry<String, String> e : headers) {
                if (forwarded(e.getKey())) {
                    out.add(new JsonArray().add(e.getKey()).add(e.getValue()));
                }
            }
        }
        return out;
    }

    static MultiMap headers(JsonArray pairs) {
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        if (pairs != null) {
            for (int i = 0; i < pairs.size(); i++) {
                JsonArray pair = pairs.getJsonArray(i);
                if (forwarded(pair.getString(0))) {
                    out.add(pair.getString(0), pair.getString(1));
                }
            }
        }
        return out;
    }

    /** False for the headers that never cross the tunnel. */
    public static boolean forwarded(String name) {
        return !NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT));
    }
}
