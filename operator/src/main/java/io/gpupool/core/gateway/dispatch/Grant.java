package io.gpupool.core.gateway.dispatch;

/** A ticket given a slot on a replica: the gateway sends the request there, then reports how it ended. */
public record Grant(Ticket ticket, String replicaId, String cluster, Object handle) {
}
