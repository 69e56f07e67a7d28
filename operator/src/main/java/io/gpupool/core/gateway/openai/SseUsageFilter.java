package io.gpupool.core.gateway.openai;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Passes a streamed (server-sent events) OpenAI response through event by event: every complete event goes on to
 * the client as soon as it has arrived, unchanged, and the gateway notes the {@code usage} the engine put in its last
 * chunk. When the gateway asked for that chunk on the client's behalf, it is removed (the client did not ask for it).
 * Only an event's bytes are held until its end (a blank line).
 */
public final class SseUsageFilter {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] USAGE = "\"usage\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EMPTY = new byte[0];

    private final boolean removeUsageChunk;
    private byte[] pending = EMPTY;
    private long prompt;
    private long completion;
    private boolean found;
    private long dataEvents;

    /** @param removeUsageChunk the client did not ask for the usage chunk: drop it */
    public SseUsageFilter(boolean removeUsageChunk) {
        this.removeUsageChunk = removeUsageChunk;
    }

    /** Takes a chunk from the engine; returns what to send to the client now (possibly nothing). */
    public byte[] accept(byte[] chunk) {
        byte[] data;
        if (pending.length == 0) {
            data = chunk;
        } else {
            data = new byte[pending.length + chunk.length];
            System.arraycopy(pending, 0, data, 0, pending.length);
            System.arraycopy(chunk, 0, data, pending.length, chunk.length);
        }
        ByteArrayOutputStream out = null;
        int start = 0;
        int end;
        boolean unchanged = true;
        while ((end = eventEnd(data, start)) >= 0) {
            boolean keep = event(data, start, end);
            if (!keep && unchanged) {
                unchanged = false;
                out = new ByteArrayOutputStream(data.length);
                out.write(data, 0, start);
            } else if (keep && !unchanged) {
                out.write(data, start, end - start);
            }
            start = end;
        }
        pending = start == data.length ? EMPTY : copy(data, start, data.length);
        if (unchanged) {
            return start == data.length ? data : copy(data, 0, start);
        }
        return out.toByteArray();
    }

    /** The end of the stream: whatever is left (an unterminated last event goes through as it is). */
    public byte[] finish() {
        byte[] rest = pending;
        pending = EMPTY;
        if (rest.length > 0 && !event(rest, 0, rest.length)) {
            return EMPTY;
        }
        return rest;
    }

    /** The engine's usage, or {@link Usage#NONE} when none came. */
    public Usage usage() {
        return found ? new Usage(prompt, completion, true) : Usage.NONE;
    }

    /** Data events seen (a rough count of generated tokens when the stream breaks before its usage). */
    public long dataEvents() {
        return dataEvents;
    }

    /** Position just after the next blank line at or after {@code from}, or -1. */
    private static int eventEnd(byte[] b, int from) {
        for (int i = from; i < b.length - 1; i++) {
            if (b[i] == '\n' && b[i + 1] == '\n') {
                return i + 2;
            }
            if (b[i] == '\r' && b[i + 1] == '\n' && i + 3 < b.length && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i + 4;
            }
        }
        return -1;
    }

    /** Looks at one event; returns whether it goes to the client. */
    private boolean event(byte[] b, int start, int end) {
        if (startsWith(b, start, "data:")) {
            dataEvents++;
        }
        int u = indexOf(b, USAGE, start, end);
        if (u < 0) {
            return true;
        }
        int i = u + USAGE.length;
        while (i < end && (b[i] == ' ' || b[i] == ':' || b[i] == '\t')) {
            i++;
        }
        if (i >= end || b[i] != '{') {
            return true; // "usage": null, as in every chunk once usage was asked for
        }
        JsonNode json = data(b, start, end);
        if (json == null || !json.path("usage").isObject()) {
            return true;
        }
        JsonNode usage = json.get("usage");
        prompt = usage.path("prompt_tokens").asLong(0);
        completion = usage.path("completion_tokens").asLong(0);
        found = true;
        JsonNode choices = json.get("choices");
        boolean usageOnly = choices == null || (choices.isArray() && choices.isEmpty());
        return !(removeUsageChunk && usageOnly);
    }

    /** The JSON of an event's data lines, or null. */
    private static JsonNode data(byte[] b, int start, int end) {
        String text = new String(b, start, end - start, StandardCharsets.UTF_8);
        StringBuilder data = new StringBuilder();
        for (String line : text.split("\r?\n")) {
            if (line.startsWith("data:")) {
                if (data.length() > 0) {
                    data.append('\n');
                }
                data.append(line.substring(line.startsWith("data: ") ? 6 : 5));
            }
        }
        try {
            return JSON.readTree(data.toString());
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean startsWith(byte[] b, int start, String prefix) {
        if (b.length - start < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (b[start + i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] b, byte[] needle, int from, int to) {
        outer: for (int i = from; i <= to - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (b[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static byte[] copy(byte[] b, int from, int to) {
        byte[] out = new byte[to - from];
        System.arraycopy(b, from, out, 0, out.length);
        return out;
    }
}
