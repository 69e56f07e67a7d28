package io.gpupool.core.model;

import java.util.Map;

/**
 * An organization's quota as written in its Organization object (before contributions are added).
 *
 * @param weight         fair-share weight (0 = only borrows what nobody else wants)
 * @param nominal        GPUs guaranteed per class by spec.quota.nominal
 * @param borrowingLimit most GPUs per class it may borrow; a class absent from the map is unlimited
 * @param lendingLimit   most GPUs per class of its nominal quota others may borrow; absent = unlimited
 */
public record OrgQuota(String name, double weight, Map<String, Integer> nominal, Map<String, Integer> borrowingLimit,
        Map<String, Integer> lendingLimit) {

    public static OrgQuota unlimited(String name) {
        return new OrgQuota(name, 1.0, Map.of(), Map.of(), Map.of());
    }
}
