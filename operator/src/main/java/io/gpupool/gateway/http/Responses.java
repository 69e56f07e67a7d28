package io.gpupool.gateway.http;

import io.gpupool.core.gateway.openai.OpenAiError;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/** Writes answers the gateway makes itself. */
final class Responses {

    private Responses() {
    }

    /** An OpenAI error object; a response already under way is reset instead (its status is gone). */
    static void error(HttpServerResponse resp, OpenAiError error) {
        if (resp.ended() || resp.closed()) {
            return;
        }
        if (resp.headWritten()) {
            resp.reset();
            return;
        }
        resp.setStatusCode(error.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        if (error.retryAfterSeconds() != null) {
            resp.putHeader("Retry-After", Integer.toString(error.retryAfterSeconds()));
        }
        resp.end(error.json());
    }

    static void json(HttpServerResponse resp, String body) {
        resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body);
    }
}
