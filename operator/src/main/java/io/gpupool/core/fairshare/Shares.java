package io.gpupool.core.fairshare;

/**
 * Kueue's dominant resource share, with GpuClasses as the resources. For each class the organization borrows in,
 * {@code value(c) * borrowed(c) / lendable(c)}; the dominant share is the largest of these, and the weighted share
 * divides it by the organization's weight. It is 0 for an organization that borrows nothing, and infinite for a
 * borrowing organization of weight 0. (Kueue reports the same number multiplied by 1000.)
 */
public final class Shares {

    private Shares() {
    }

    /** The share of one class: {@code value * borrowed / max(1, lendable)}. */
    public static double classRatio(QuotaBook book, int o, int c, int quotaUsed) {
        int borrowed = quotaUsed - book.nominal(o, c);
        return borrowed <= 0 ? 0.0 : book.value(c) * borrowed / Math.max(1, book.lendable(c));
    }

    /** Dominant share of an organization whose quota usage per class is {@code quotaUsed}. */
    public static double dominant(QuotaBook book, int o, int[] quotaUsed) {
        double drs = 0;
        for (int c = 0; c < quotaUsed.length; c++) {
            drs = Math.max(drs, classRatio(book, o, c, quotaUsed[c]));
        }
        return drs;
    }

    /** Weighted share: dominant share / weight; 0 when not borrowing, infinite when borrowing with weight 0. */
    public static double weighted(double dominantShare, double weight) {
        if (dominantShare <= 0) {
            return 0.0;
        }
        return weight <= 0 ? Double.POSITIVE_INFINITY : dominantShare / weight;
    }

    /** Weighted share of an organization whose quota usage per class is {@code quotaUsed}. */
    public static double weightedShare(QuotaBook book, int o, int[] quotaUsed) {
        return weighted(dominant(book, o, quotaUsed), book.weight(o));
    }

    /** Weighted share counted on one class only: the share preemption compares for that class. */
    public static double weightedClassShare(QuotaBook book, int o, int c, int quotaUsed) {
        return weighted(classRatio(book, o, c, quotaUsed), book.weight(o));
    }

    /**
     * Kueue's {@code LessThanOrEqualToFinalShare}: a preemptor may take a victim only if its organization's share with
     * the new replica is at most the victim organization's share without the victim. As long as every preemption
     * satisfies it, two organizations cannot preempt each other back and forth.
     */
    public static boolean lessThanOrEqualToFinalShare(double preemptorShareWithReplica, double targetShareWithoutVictim) {
        return preemptorShareWithReplica <= targetShareWithoutVictim;
    }

    /** How many replicas of {@code gpusPerReplica} GPUs the commons still carries out of {@code commonsLeft} GPUs. */
    public static int commonsReplicas(int replicas, int gpusPerReplica, int commonsLeft) {
        if (commonsLeft <= 0 || gpusPerReplica <= 0) {
            return 0;
        }
        return Math.min(replicas, commonsLeft / gpusPerReplica);
    }
}
