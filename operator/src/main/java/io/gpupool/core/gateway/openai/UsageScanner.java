package io.gpupool.core.gateway.openai;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;

/**
 * Finds the top-level {@code usage} of a JSON response while it streams through, chunk by chunk, without holding the
 * body: a non-blocking Jackson parser is fed every chunk the client gets. A body that is not JSON (an engine's plain
 * error page) just yields no usage.
 */
public final class UsageScanner {

    private static final JsonFactory FACTORY = new JsonFactory();

    private final JsonParser parser;
    private int depth;
    private boolean inUsage;
    private String field;
    private long prompt;
    private long completion;
    private boolean found;
    private boolean broken;

    public UsageScanner() {
        try {
            parser = FACTORY.createNonBlockingByteArrayParser();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads one more chunk of the body. */
    public void feed(byte[] chunk) {
        if (broken || chunk.length == 0) {
            return;
        }
        try {
            ((ByteArrayFeeder) parser.getNonBlockingInputFeeder()).feedInput(chunk, 0, chunk.length);
            JsonToken t;
            while ((t = parser.nextToken()) != null && t != JsonToken.NOT_AVAILABLE) {
                token(t);
            }
        } catch (IOException | RuntimeException e) {
            broken = true;
        }
    }

    private void token(JsonToken t) throws IOException {
        switch (t) {
            case START_OBJECT, START_ARRAY -> {
                if (depth == 1 && t == JsonToken.START_OBJECT && "usage".equals(field)) {
                    inUsage = true;
                    found = true;
                }
                depth++;
                field = null;
            }
            case END_OBJECT, END_ARRAY -> {
                depth--;
                if (depth == 1) {
                    inUsage = false;
                }
            }
            case FIELD_NAME -> field = parser.currentName();
            case VALUE_NUMBER_INT -> {
                if (inUsage && depth == 2) {
                    if ("prompt_tokens".equals(field)) {
                        prompt = parser.getLongValue();
                    } else if ("completion_tokens".equals(field)) {
                        completion = parser.getLongValue();
                    }
                }
            }
            default -> {
            }
        }
    }

    /** The usage seen so far ({@link Usage#reported()} false when the body carried none). */
    public Usage usage() {
        return found ? new Usage(prompt, completion, true) : Usage.NONE;
    }
}
