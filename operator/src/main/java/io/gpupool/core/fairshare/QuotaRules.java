package io.gpupool.core.fairshare;

/**
 * The quota rules of docs/fair-share.md as small pure functions of plain numbers, one GpuClass at a time. "Quota
 * usage" is what counts against an organization's nominal quota: its running replicas' GPUs, less what the commons
 * carries for its shared models, plus the GPUs it claims while its victims stop.
 */
public final class QuotaRules {

    /** Marks an absent borrowing or lending limit. */
    public static final int UNLIMITED = -1;

    private QuotaRules() {
    }

    /** What keeps an organization from taking more GPUs of a class. */
    public enum Block {
        NONE, BORROWING_LIMIT, NO_LENDABLE_GPUS
    }

    /** §3 phase 1: one more replica of {@code gpus} GPUs stays within the nominal quota. */
    public static boolean withinNominal(int quotaUsage, int gpus, int nominal) {
        return quotaUsage + gpus <= nominal;
    }

    /** GPUs used beyond the nominal quota. */
    public static int borrowed(int quotaUsage, int nominal) {
        return Math.max(0, quotaUsage - nominal);
    }

    /** §4: an organization's running replicas of a class may be reclaimed only while it is above its nominal quota. */
    public static boolean borrowing(int runningGpus, int nominal) {
        return runningGpus > nominal;
    }

    /**
     * §4: a replica may reclaim (preempt) when it stays within its organization's nominal quota once the lower-priority
     * replicas of its own organization that count against that quota are gone.
     *
     * @param ownLowerPriorityGpus GPUs of the organization's lower-priority, non-shared running replicas in the class
     */
    public static boolean mayReclaim(int quotaUsage, int gpus, int nominal, int ownLowerPriorityGpus) {
        return quotaUsage + gpus - nominal <= ownLowerPriorityGpus;
    }

    /**
     * GPUs of an organization's nominal quota that it does not use and that others may not borrow either (because of
     * its lending limit): borrowers must leave them idle.
     */
    public static int keptBack(int nominal, int lendingLimit, int quotaUsage) {
        return lendingLimit == UNLIMITED ? 0 : Math.max(0, nominal - lendingLimit - quotaUsage);
    }

    /**
     * §3 phase 2: whether an organization may take {@code gpus} more GPUs of a class: always within its nominal
     * quota; beyond it only within its borrowing limit, and only if the GPUs held in the class plus those the other
     * organizations keep back still fit in the capacity.
     *
     * @param heldInClass       GPUs of the class held by everyone now (running, draining, claimed)
     * @param keptBackByOthers  GPUs the other organizations keep back ({@link #keptBack})
     */
    public static Block mayBorrow(int quotaUsage, int gpus, int nominal, int borrowingLimit, long heldInClass,
            long keptBackByOthers, int capacity) {
        int after = quotaUsage + gpus;
        if (after <= nominal) {
            return Block.NONE;
        }
        if (borrowingLimit != UNLIMITED && after - nominal > borrowingLimit) {
            return Block.BORROWING_LIMIT;
        }
        return heldInClass + gpus + keptBackByOthers <= capacity ? Block.NONE : Block.NO_LENDABLE_GPUS;
    }

    /** Whether one more replica stays within the borrowing limit ({@link #UNLIMITED}: always). */
    public static boolean withinBorrowingLimit(int quotaUsage, int gpus, int nominal, int borrowingLimit) {
        return borrowingLimit == UNLIMITED || quotaUsage + gpus - nominal <= borrowingLimit;
    }
}
