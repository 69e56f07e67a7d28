package io.gpupool.core.model;

import java.util.Set;
import java.util.TreeSet;

/**
 * What a replica needs of a node besides GPUs: its owner's consent to what the replica may do there, and (for a model
 * whose token may reach only some clusters) a cluster of an allow-list.
 *
 * @param consents what the node's owner must allow ({@link PoolNode#consents()})
 * @param clusters the clusters the replica may run in; empty: any
 */
public record Requirements(Set<Consent> consents, Set<String> clusters) {

    public static final Requirements NONE = new Requirements(Set.of(), Set.of());

    /** What a node's owner may allow the pool's work to do there. */
    public enum Consent {
        /** Run Python code shipped with the model. */
        REMOTE_CODE,
        /** Load weights in pickle formats (which can execute code). */
        UNSAFE_WEIGHTS
    }

    public Requirements {
        consents = Set.copyOf(consents);
        clusters = Set.copyOf(clusters);
    }

    /** Whether the node may hold a replica (whatever its GPUs). */
    public boolean admits(PoolNode node) {
        return node.consents().containsAll(consents) && (clusters.isEmpty() || clusters.contains(node.key().cluster()));
    }

    /** Why the node may not hold a replica, as a phrase; null when it may. */
    public String refusal(PoolNode node) {
        if (!clusters.isEmpty() && !clusters.contains(node.key().cluster())) {
            return "its model's token may not go to cluster " + node.key().cluster() + " (allowed: "
                    + String.join(", ", new TreeSet<>(clusters)) + ")";
        }
        Set<Consent> missing = new TreeSet<>(consents);
        missing.removeAll(node.consents());
        return missing.isEmpty() ? null : "its owner does not consent to " + describe(missing);
    }

    static String describe(Set<Consent> consents) {
        return String.join(" and ", consents.stream().map(c -> c == Consent.REMOTE_CODE ? "remote code"
                : "unsafe (pickle) weights").toList());
    }
}
