package io.gpupool.core.gateway.openai;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * An error as OpenAI's API answers it, {@code {"error": {"message", "type", "param", "code"}}}, with its HTTP status
 * and, for 429 and 503, the seconds after which to retry (official clients honour {@code Retry-After}).
 */
public record OpenAiError(int status, String type, String code, String param, String message, Integer retryAfterSeconds) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static OpenAiError badRequest(String message, String param) {
        return new OpenAiError(400, "invalid_request_error", null, param, message, null);
    }

    public static OpenAiError missingKey() {
        return new OpenAiError(401, "invalid_request_error", "missing_api_key", null,
                "You didn't provide an API key. Pass it as 'Authorization: Bearer <key>'; an ApiKey's Secret holds it.",
                null);
    }

    public static OpenAiError unknownKey(String why) {
        return new OpenAiError(401, "invalid_request_error", "invalid_api_key", null, why, null);
    }

    public static OpenAiError forbidden(String model) {
        return new OpenAiError(403, "invalid_request_error", "model_not_available", "model", "The model '" + model
                + "' belongs to another organization and is not shared; your key's organization may not use it.", null);
    }

    public static OpenAiError unknownModel(String model) {
        return new OpenAiError(404, "invalid_request_error", "model_not_found", "model", "The model '" + model
                + "' does not exist in this pool. GET /v1/models lists the models your organization may use.", null);
    }

    public static OpenAiError notFound(String path) {
        return new OpenAiError(404, "invalid_request_error", "unknown_url", null, "Unknown request URL: " + path
                + ". The gateway serves GET /v1/models, POST /v1/chat/completions, /v1/completions and /v1/embeddings.",
                null);
    }

    public static OpenAiError methodNotAllowed(String method, String path) {
        return new OpenAiError(405, "invalid_request_error", "method_not_allowed", null, method + " is not allowed on "
                + path + ".", null);
    }

    public static OpenAiError tooLarge(long limit) {
        return new OpenAiError(413, "invalid_request_error", "request_too_large", null,
                "The request body is larger than the gateway accepts (" + limit + " bytes).", null);
    }

    public static OpenAiError queueFull(String model, int retryAfter) {
        return new OpenAiError(429, "rate_limit_error", "queue_full", null, "Your organization already has as many "
                + "requests waiting for '" + model + "' as the gateway queues; retry after " + retryAfter + " s.",
                retryAfter);
    }

    public static OpenAiError queueTimeout(String model, int retryAfter) {
        return new OpenAiError(429, "rate_limit_error", "queue_timeout", null, "The request waited for a free replica "
                + "of '" + model + "' longer than the gateway allows; retry after " + retryAfter + " s.", retryAfter);
    }

    public static OpenAiError noReplica(String model, int retryAfter) {
        return new OpenAiError(503, "server_error", "no_ready_replica", null, "No ready replica of '" + model
                + "' can be reached right now; retry after " + retryAfter + " s.", retryAfter);
    }

    /** A request held for a first replica (scale from zero) longer than the gateway allows. */
    public static OpenAiError coldStartTimeout(String model, long waitedSeconds, int retryAfter) {
        return new OpenAiError(503, "server_error", "model_starting", null, "'" + model + "' is starting from zero "
                + "replicas and no replica became ready within " + waitedSeconds + " s; retry after " + retryAfter
                + " s.", retryAfter);
    }

    public static OpenAiError upstreamFailed(String model, String why) {
        return new OpenAiError(502, "server_error", "upstream_error", null, "The replica of '" + model
                + "' failed before answering: " + why, null);
    }

    /** The answer had begun when its replica, or the way to it, broke: what the client got is incomplete. */
    public static OpenAiError answerBroken(String model, String why) {
        return new OpenAiError(502, "server_error", "upstream_error", null, "The replica of '" + model
                + "' broke off its answer (" + why + "); the answer is incomplete, send the request again.", null);
    }

    public static OpenAiError shuttingDown() {
        return new OpenAiError(503, "server_error", "gateway_stopping", null,
                "This gateway replica is stopping; retry (another replica answers).", 1);
    }

    public static OpenAiError internal(String why) {
        return new OpenAiError(500, "server_error", "internal_error", null, why, null);
    }

    /** The JSON body. */
    public String json() {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        try {
            return JSON.writeValueAsString(Map.of("error", error));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
