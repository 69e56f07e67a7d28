package io.gpupool.gateway.pool;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.gpupool.core.gateway.ModelCatalog;
import io.gpupool.core.gateway.dispatch.ReplicaSpec;

/**
 * One consistent view of the pool for the gateway.
 *
 * @param catalog  served names, owners, access
 * @param keys     API keys by hash
 * @param weights  quota weight per existing Organization
 * @param replicas  replicas per model ({@code namespace/name}), ready and reachable
 * @param reachable ready replicas reached per model of the catalog (a ReplicaSpec through a tunnel stands for several)
 */
public record PoolSnapshot(ModelCatalog catalog, Map<String, KeyEntry> keys, Map<String, Double> weights,
        Map<String, List<ReplicaSpec>> replicas, Map<String, Integer> reachable) {

    static final PoolSnapshot EMPTY = new PoolSnapshot(ModelCatalog.of(List.of(), List.of()),
            Map.of(), Map.of(), Map.of(), Map.of());

    /**
     * An API key the gateway accepts, as long as it has not expired and its organization exists.
     *
     * @param organization the organization its namespace belongs to, or null
     */
    public record KeyEntry(String namespace, String name, Instant expiresAt, String organization) {
    }
}
