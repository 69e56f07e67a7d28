package io.gpupool.core.gateway.metering;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import io.gpupool.core.gateway.metering.UsageCounts.Counts;
import io.gpupool.core.gateway.metering.UsageCounts.KeyCounts;
import io.gpupool.core.gateway.metering.UsageCounts.KeyRef;
import io.gpupool.core.gateway.metering.UsageCounts.UsageKey;
import io.gpupool.core.gateway.openai.Usage;

/**
 * What one gateway process has metered since it started: cumulative, never reset, so that any two snapshots tell what
 * happened in between. Recording takes a short lock (one map update per answered request).
 */
public final class UsageMeter {

    private final Map<UsageKey, Counts> usage = new HashMap<>();
    private final Map<KeyRef, KeyCounts> keys = new HashMap<>();

    /** Counts one answered request. */
    public synchronized void record(String organization, String model, String cluster, KeyRef key, Usage tokens,
            Instant at) {
        usage.merge(new UsageKey(organization, model, cluster),
                new Counts(1, tokens.promptTokens(), tokens.completionTokens()), Counts::plus);
        if (key != null) {
            keys.merge(key, new KeyCounts(1, tokens.total(), at), KeyCounts::plus);
        }
    }

    public synchronized UsageCounts snapshot() {
        return new UsageCounts(Map.copyOf(usage), Map.copyOf(keys));
    }
}
