package io.gpupool.core.gateway.dispatch;

import java.util.HashSet;
import java.util.Set;

/**
 * One request as the dispatcher sees it: who asks, what it may cost, where its prompt begins. The gateway keeps its
 * own state for the request in {@link #attachment()}.
 */
public final class Ticket {

    private final String organization;
    private final double weight;
    private final String prefix;
    private final long promptTokens;
    private final Long maxTokens;
    private final Object attachment;
    final Set<String> excluded = new HashSet<>();
    long enqueuedAtMillis;
    boolean waiting;
    /** Tokens charged at dispatch, corrected when the real usage is known. */
    double charged;

    /**
     * @param organization the calling organization
     * @param weight       its quota weight (its share of service)
     * @param prefix       the beginning of the prompt, for prefix affinity; null or empty for none
     * @param promptTokens estimated prompt tokens
     * @param maxTokens    the request's max_tokens, or null
     * @param attachment   the gateway's state for the request
     */
    public Ticket(String organization, double weight, String prefix, long promptTokens, Long maxTokens,
            Object attachment) {
        this.organization = organization;
        this.weight = weight;
        this.prefix = prefix;
        this.promptTokens = promptTokens;
        this.maxTokens = maxTokens;
        this.attachment = attachment;
    }

    public String organization() {
        return organization;
    }

    public double weight() {
        return weight;
    }

    public String prefix() {
        return prefix;
    }

    public long promptTokens() {
        return promptTokens;
    }

    public Long maxTokens() {
        return maxTokens;
    }

    @SuppressWarnings("unchecked")
    public <T> T attachment() {
        return (T) attachment;
    }

    /** When it started waiting (the dispatcher's clock), for queue-wait figures. */
    public long enqueuedAtMillis() {
        return enqueuedAtMillis;
    }
}
