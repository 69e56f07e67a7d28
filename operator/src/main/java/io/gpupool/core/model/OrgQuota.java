package io.gpupool.core.model;

import java.util.Map;

/**
 * An organization's quota as written in its Organization object (before contributions are added).
 *
 * @param weight         fair-share weight (0 = only borrows what nobody else wants)
 * @param nominal        GPUs guaranteed per class by spec.quota.nominal
 * @param borrowingLimit most GPUs per class it may borrow; a class absent from the map is unlimited
 * @param lendingLimit   most GPUs per class of its nominal quota others may borrow; absent = unlimited
 * @param decayedNetUsage value-weighted GPU-hours it used minus contributed, halved every usage half-life (the
 *                       ledger keeps it); only read when the pool remembers usage ({@link PoolPolicy#remembersUsage})
 */
public record OrgQuota(String name, double weight, Map<String, Integer> nominal, Map<String, Integer> borrowingLimit,
        Map<String, Integer> lendingLimit, double decayedNetUsage) {

    /** A quota without usage history. */
    public OrgQuota(String name, double weight, Map<String, Integer> nominal, Map<String, Integer> borrowingLimit,
            Map<String, Integer> lendingLimit) {
        this(name, weight, nominal, borrowingLimit, lendingLimit, 0);
    }

    public OrgQuota withDecayedNetUsage(double usage) {
        return new OrgQuota(name, weight, nominal, borrowingLimit, lendingLimit, usage);
    }

    public static OrgQuota unlimited(String name) {
        return new OrgQuota(name, 1.0, Map.of(), Map.of(), Map.of());
    }
}
