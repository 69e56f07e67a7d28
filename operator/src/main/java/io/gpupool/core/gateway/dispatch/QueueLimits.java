package io.gpupool.core.gateway.dispatch;

import java.time.Duration;

/**
 * How much waiting the gateway accepts for one model.
 *
 * @param maxQueuedPerOrganization requests one organization may have waiting (beyond it: 429); per organization, so
 *                                 that one organization's flood never fills the queue of another
 * @param maxWait                  how long a request waits for a slot before it is answered 429
 */
public record QueueLimits(int maxQueuedPerOrganization, Duration maxWait) {

    public static final QueueLimits DEFAULT = new QueueLimits(1000, Duration.ofSeconds(60));
}
