package io.gpupool.core.admission.preemption;

import java.util.Collections;
import java.util.List;

/** Room for one replica on one node: the replicas to evict there (none when GPUs being released are enough). */
public final class Plan {

    private final int node;
    private final int rank;
    private final int have;
    private final List<Candidate> victims;
    private final int evictedGpus;
    private final Candidate worst;

    /**
     * @param node        the node's index in the ledger
     * @param rank        the node's class in the workload's preference order (0 = most preferred)
     * @param have        the node's GPUs free or being released before any eviction
     * @param victims     replicas to evict, in the order they are chosen
     * @param evictedGpus their GPUs
     */
    public Plan(int node, int rank, int have, List<Candidate> victims, int evictedGpus) {
        this.node = node;
        this.rank = rank;
        this.have = have;
        this.victims = victims;
        this.evictedGpus = evictedGpus;
        this.worst = victims.isEmpty() ? null : Collections.max(victims, VictimOrder.ORDER);
    }

    public int node() {
        return node;
    }

    public List<Candidate> victims() {
        return victims;
    }

    public int evictedGpus() {
        return evictedGpus;
    }

    /** The least evictable victim, or null. */
    public Candidate worst() {
        return worst;
    }

    /**
     * Whether this plan beats another: no victim at all beats any eviction; then the least evictable victim being the
     * most evictable, the fewest evicted GPUs, the fewest victims, the most preferred class, the tightest node, the
     * lowest node.
     */
    public boolean better(Plan best) {
        if (best == null) {
            return true;
        }
        boolean pz = victims.isEmpty();
        boolean bz = best.victims.isEmpty();
        if (pz != bz) {
            return pz;
        }
        if (!pz) {
            int cmp = VictimOrder.ORDER.compare(worst, best.worst);
            if (cmp != 0) {
                return cmp < 0;
            }
            if (evictedGpus != best.evictedGpus) {
                return evictedGpus < best.evictedGpus;
            }
            if (victims.size() != best.victims.size()) {
                return victims.size() < best.victims.size();
            }
        }
        if (rank != best.rank) {
            return rank < best.rank;
        }
        if (have != best.have) {
            return have < best.have;
        }
        return node < best.node;
    }
}
