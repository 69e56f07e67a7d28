package io.gpupool.core.admission;

import io.gpupool.core.fairshare.QuotaRules;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PendingReason;

/** The one place where the engines' {@link Reasons} become sentences: conditions' messages and Events. */
public final class Explainer {

    private Explainer() {
    }

    public static PendingReason pending(Reasons.Waiting why) {
        if (why instanceof Reasons.NoMatchingGpu r) {
            return new PendingReason(PendingReason.NO_MATCHING_GPU, "No schedulable GPU node in the pool has "
                    + need(r.need()) + (r.unclassifiedNodes() > 0 ? " (" + r.unclassifiedNodes()
                            + " GPU node(s) match no GpuClass: create GpuClasses that cover them)" : "")
                    + (r.refusedNodes() > 0 ? "; " + r.refusedNodes() + " node(s) with such GPUs may not hold it: "
                            + r.refusal() + " (owners consent in GpuPool spec.localNodes for the pool's own cluster, in "
                            + "the contributor chart's policy for theirs; spec.hfTokenClusters lists the clusters a "
                            + "model's token may go to)" : "") + ".");
        }
        if (why instanceof Reasons.InsufficientCapacity r) {
            return new PendingReason(PendingReason.INSUFFICIENT_CAPACITY, "Waiting for capacity: " + r.matchingNodes()
                    + " node(s) can hold a replica (" + need(r.need()) + ") but only " + r.freeGpus() + " of their "
                    + r.gpus() + " GPUs are free, not enough on any one node.");
        }
        if (why instanceof Reasons.QuotaExceeded r) {
            String limit = r.borrowingLimit() == QuotaRules.UNLIMITED ? "none" : Integer.toString(r.borrowingLimit());
            String blocked = r.block() == QuotaRules.Block.BORROWING_LIMIT
                    ? "a replica needs " + r.gpus() + " more GPU(s), which would borrow "
                            + (r.used() + r.gpus() - r.nominal()) + ", more than the limit"
                    : "the idle GPUs of the class are kept for other organizations' nominal quotas (lending limits)";
            return new PendingReason(PendingReason.QUOTA_EXCEEDED, "Organization " + r.organization()
                    + " is at its quota for GpuClass " + r.gpuClass() + ": nominal " + r.nominal() + " GPUs, used "
                    + r.used() + ", borrowing limit " + limit + "; " + blocked + "."
                    + (r.shared() ? " The commons (" + r.commons() + " GPUs) is fully used." : ""));
        }
        if (why instanceof Reasons.Preempting r) {
            return new PendingReason(PendingReason.PREEMPTING, "Preempting " + r.victims() + " replica(s) on "
                    + where(r.node(), r.gpuClass()) + " to free " + r.gpus()
                    + " GPU(s); the replica starts once they have stopped.");
        }
        Reasons.WaitingForRelease r = (Reasons.WaitingForRelease) why;
        return new PendingReason(PendingReason.PREEMPTING, "Waiting for " + r.gpus() + " GPU(s) on "
                + where(r.node(), r.gpuClass())
                + " that stopping replicas still hold; the replica starts once they are released.");
    }

    /** The sentence of an eviction: the victim's Preempted condition and Event. */
    public static String eviction(Reasons.Evicted why) {
        if (why instanceof Reasons.Outranked r) {
            return "preempted by " + r.preemptor() + " of the same organization " + r.organization()
                    + ": it has priority " + r.preemptorPriority() + ", higher than " + r.victimPriority()
                    + ", and needs the GPUs of node " + r.node();
        }
        if (why instanceof Reasons.ElasticGivenBack r) {
            return "an elastic replica (above minReplicas) given back to " + r.preemptor() + " of the same organization "
                    + r.organization() + ", which needs the GPUs of node " + r.node() + " within its nominal quota";
        }
        Reasons.Reclaimed r = (Reasons.Reclaimed) why;
        return "reclaimed by org " + r.preemptorOrganization() + " for " + r.preemptor() + ": org "
                + r.victimOrganization() + " borrows " + r.borrowed() + " GPU(s) of class " + r.gpuClass()
                + " beyond its nominal quota of " + r.nominal() + ", and " + r.preemptor() + " needs " + r.gpus()
                + " GPU(s) of node " + r.node() + " within "
                + (r.forCommons() ? "the commons" : r.preemptorOrganization() + "'s nominal quota");
    }

    private static String need(Reasons.Need n) {
        return n.gpus() + " GPU(s) with at least " + n.minMemoryMiB() + " MiB each on one node"
                + (n.classes().isEmpty() ? "" : " of class " + String.join(" or ", n.classes()));
    }

    private static String where(NodeKey node, String gpuClass) {
        return node + " (class " + gpuClass + ")";
    }
}
