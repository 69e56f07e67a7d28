package io.gpupool.core.gateway.metering;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import io.gpupool.api.v1alpha1.GatewayReportSpec;
import io.gpupool.core.inventory.PoolInputs;

/**
 * Cumulative counts, as a value: per (organization, model, cluster) and per ApiKey. A gateway slot's report holds one
 * ({@link #of(GatewayReportSpec)}, {@link #writeTo}); the gateway's meter takes snapshots of its own; the difference of
 * two snapshots of one meter is what happened in between ({@link #minus}), and adding it to a slot's counts is what
 * the slot holds next ({@link #plus}).
 */
public record UsageCounts(Map<UsageKey, Counts> usage, Map<KeyRef, KeyCounts> keys) {

    public static final UsageCounts EMPTY = new UsageCounts(Map.of(), Map.of());

    /** The calling organization, the ModelDeployment (namespace/name) and the serving cluster. */
    public record UsageKey(String organization, String model, String cluster) {
    }

    public record Counts(long requests, long promptTokens, long completionTokens) {

        public static final Counts ZERO = new Counts(0, 0, 0);

        Counts plus(Counts o) {
            return new Counts(requests + o.requests, promptTokens + o.promptTokens, completionTokens + o.completionTokens);
        }

        Counts minus(Counts o) {
            return new Counts(requests - o.requests, promptTokens - o.promptTokens, completionTokens - o.completionTokens);
        }

        boolean isZero() {
            return requests == 0 && promptTokens == 0 && completionTokens == 0;
        }
    }

    /** An ApiKey, by namespace and name. */
    public record KeyRef(String namespace, String name) {
    }

    /** @param lastUsed when the key was last accepted, or null */
    public record KeyCounts(long requests, long tokens, Instant lastUsed) {

        KeyCounts plus(KeyCounts o) {
            return new KeyCounts(requests + o.requests, tokens + o.tokens, later(lastUsed, o.lastUsed));
        }

        /** The difference in counts; the later lastUsed (a time is not a count). */
        KeyCounts minus(KeyCounts o) {
            return new KeyCounts(requests - o.requests, tokens - o.tokens, lastUsed);
        }
    }

    static Instant later(Instant a, Instant b) {
        return a == null ? b : b == null ? a : a.isAfter(b) ? a : b;
    }

    public UsageCounts plus(UsageCounts o) {
        Map<UsageKey, Counts> u = new HashMap<>(usage);
        o.usage.forEach((k, v) -> u.merge(k, v, Counts::plus));
        Map<KeyRef, KeyCounts> ks = new HashMap<>(keys);
        o.keys.forEach((k, v) -> ks.merge(k, v, KeyCounts::plus));
        return new UsageCounts(u, ks);
    }

    /** What this snapshot counted beyond an earlier one of the same meter (entries that did not change are left out). */
    public UsageCounts minus(UsageCounts earlier) {
        Map<UsageKey, Counts> u = new HashMap<>();
        usage.forEach((k, v) -> {
            Counts d = v.minus(earlier.usage.getOrDefault(k, Counts.ZERO));
            if (!d.isZero()) {
                u.put(k, d);
            }
        });
        Map<KeyRef, KeyCounts> ks = new HashMap<>();
        keys.forEach((k, v) -> {
            KeyCounts before = earlier.keys.get(k);
            KeyCounts d = before == null ? v : v.minus(before);
            if (before == null || d.requests != 0 || d.tokens != 0) {
                ks.put(k, d);
            }
        });
        return new UsageCounts(u, ks);
    }

    /** The same without the keys that fail the test (deleted ApiKeys). */
    public UsageCounts keepKeys(Predicate<KeyRef> exists) {
        Map<KeyRef, KeyCounts> ks = new HashMap<>();
        keys.forEach((k, v) -> {
            if (exists.test(k)) {
                ks.put(k, v);
            }
        });
        return new UsageCounts(usage, ks);
    }

    public boolean isEmpty() {
        return usage.isEmpty() && keys.isEmpty();
    }

    /** The counts a report holds. */
    public static UsageCounts of(GatewayReportSpec spec) {
        if (spec == null) {
            return EMPTY;
        }
        Map<UsageKey, Counts> u = new HashMap<>();
        for (GatewayReportSpec.Usage e : spec.usage == null ? List.<GatewayReportSpec.Usage> of() : spec.usage) {
            if (e != null && e.organization != null && e.model != null) {
                u.merge(new UsageKey(e.organization, e.model, e.cluster == null ? "" : e.cluster),
                        new Counts(e.requests, e.promptTokens, e.completionTokens), Counts::plus);
            }
        }
        Map<KeyRef, KeyCounts> ks = new HashMap<>();
        for (GatewayReportSpec.KeyUsage e : spec.keys == null ? List.<GatewayReportSpec.KeyUsage> of() : spec.keys) {
            if (e != null && e.namespace != null && e.name != null) {
                ks.merge(new KeyRef(e.namespace, e.name),
                        new KeyCounts(e.requests, e.tokens, PoolInputs.parseTime(e.lastUsedTime)), KeyCounts::plus);
            }
        }
        return new UsageCounts(u, ks);
    }

    /** Writes the counts into a report, sorted so that equal counts serialize the same. */
    public void writeTo(GatewayReportSpec spec) {
        List<GatewayReportSpec.Usage> u = new ArrayList<>();
        usage.forEach((k, v) -> u.add(new GatewayReportSpec.Usage(k.organization(), k.model(), k.cluster(),
                v.requests(), v.promptTokens(), v.completionTokens())));
        u.sort(Comparator.comparing((GatewayReportSpec.Usage e) -> e.organization).thenComparing(e -> e.model)
                .thenComparing(e -> e.cluster));
        List<GatewayReportSpec.KeyUsage> ks = new ArrayList<>();
        keys.forEach((k, v) -> ks.add(new GatewayReportSpec.KeyUsage(k.namespace(), k.name(), v.requests(), v.tokens(),
                v.lastUsed() == null ? null : v.lastUsed().toString())));
        ks.sort(Comparator.comparing((GatewayReportSpec.KeyUsage e) -> e.namespace).thenComparing(e -> e.name));
        spec.usage = u;
        spec.keys = ks;
    }
}
