package io.gpupool.core.gateway.dispatch;

import java.time.Duration;

/**
 * How much waiting the gateway accepts for one model.
 *
 * @param maxQueuedPerOrganization requests one organization may have waiting (beyond it: 429); per organization, so
 *                                 that one organization's flood never fills the queue of another
 * @param maxWait                  how long a request waits for a slot before it is answered 429
 * @param coldStartWait            how long a request to an autoscaled model with no ready replica is held while one
 *                                 starts (scale from zero) before it is answered 503 with Retry-After
 * @param loadWindow               the window over which a model's load (in-flight plus queued requests) is averaged
 *                                 for the autoscaler
 */
public record QueueLimits(int maxQueuedPerOrganization, Duration maxWait, Duration coldStartWait, Duration loadWindow) {

    public static final Duration DEFAULT_COLD_START_WAIT = Duration.ofSeconds(180);
    public static final Duration DEFAULT_LOAD_WINDOW = Duration.ofSeconds(30);
    public static final QueueLimits DEFAULT = new QueueLimits(1000, Duration.ofSeconds(60));

    public QueueLimits(int maxQueuedPerOrganization, Duration maxWait) {
        this(maxQueuedPerOrganization, maxWait, DEFAULT_COLD_START_WAIT, DEFAULT_LOAD_WINDOW);
    }

    public QueueLimits withColdStartWait(Duration wait) {
        return new QueueLimits(maxQueuedPerOrganization, maxWait, wait, loadWindow);
    }

    public QueueLimits withLoadWindow(Duration window) {
        return new QueueLimits(maxQueuedPerOrganization, maxWait, coldStartWait, window);
    }
}
