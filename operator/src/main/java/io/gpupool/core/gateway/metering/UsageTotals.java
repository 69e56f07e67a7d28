package io.gpupool.core.gateway.metering;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.api.v1alpha1.OrganizationUsage;
import io.gpupool.core.gateway.metering.UsageCounts.Counts;
import io.gpupool.core.gateway.metering.UsageCounts.KeyCounts;
import io.gpupool.core.gateway.metering.UsageCounts.KeyRef;
import io.gpupool.core.gateway.metering.UsageCounts.UsageKey;

/**
 * The pool's usage totals: the sum of every gateway slot's counts. Slots only grow and each count is in exactly one
 * slot, so the sum is exact whatever the order in which reports are seen, and writing it again changes nothing.
 */
public final class UsageTotals {

    private final Map<String, OrganizationUsage> organizations;
    private final Map<KeyRef, KeyCounts> keys;

    private UsageTotals(Map<String, OrganizationUsage> organizations, Map<KeyRef, KeyCounts> keys) {
        this.organizations = organizations;
        this.keys = keys;
    }

    public static UsageTotals of(Collection<GatewayReport> reports) {
        UsageCounts sum = UsageCounts.EMPTY;
        for (GatewayReport r : reports) {
            sum = sum.plus(UsageCounts.of(r.getSpec()));
        }
        Map<String, Map<UsageKey, Counts>> perOrg = new TreeMap<>();
        sum.usage().forEach((k, v) -> perOrg.computeIfAbsent(k.organization(), o -> new HashMap<>()).put(k, v));
        Map<String, OrganizationUsage> orgs = new HashMap<>();
        perOrg.forEach((org, entries) -> {
            OrganizationUsage u = new OrganizationUsage();
            List<OrganizationUsage.ModelUsage> models = new ArrayList<>();
            entries.forEach((k, v) -> {
                u.requests += v.requests();
                u.promptTokens += v.promptTokens();
                u.completionTokens += v.completionTokens();
                models.add(new OrganizationUsage.ModelUsage(k.model(), k.cluster(), v.requests(), v.promptTokens(),
                        v.completionTokens()));
            });
            models.sort(Comparator.comparing((OrganizationUsage.ModelUsage m) -> m.model).thenComparing(m -> m.cluster));
            u.models = models;
            orgs.put(org, u);
        });
        return new UsageTotals(Map.copyOf(orgs), Map.copyOf(sum.keys()));
    }

    /** An organization's usage, or null when it has used nothing through the gateway. */
    public OrganizationUsage organization(String name) {
        return organizations.get(name);
    }

    public KeyCounts key(String namespace, String name) {
        return keys.get(new KeyRef(namespace, name));
    }
}
