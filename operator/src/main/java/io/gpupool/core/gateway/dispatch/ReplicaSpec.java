package io.gpupool.core.gateway.dispatch;

/**
 * A replica (or a set of replicas behind one address) the gateway may send a model's requests to.
 *
 * @param id       stable identity (pod, or cluster/work), also its place on the prefix ring
 * @param cluster  the serving cluster, for metering
 * @param capacity requests it takes at once (maxInFlightPerReplica × the replicas behind it)
 * @param handle   how the gateway reaches it (an Upstream); opaque here
 */
public record ReplicaSpec(String id, String cluster, int capacity, Object handle) {
}
