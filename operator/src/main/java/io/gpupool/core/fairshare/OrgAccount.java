package io.gpupool.core.fairshare;

import java.util.List;

/**
 * One organization's quota usage.
 *
 * @param weight        its fair-share weight
 * @param classes       one entry per GpuClass of the pool, in the pool's class order
 * @param weightedShare Kueue's weighted dominant share of what it borrows: 0 when not borrowing,
 *                      {@link Double#POSITIVE_INFINITY} when borrowing with weight 0 (JSON has no infinity: callers that
 *                      serialize it must map it, e.g. to a large number)
 * @param pendingGpus   GPUs all its waiting replicas ask for (each replica counted once)
 */
public record OrgAccount(String organization, double weight, List<ClassAccount> classes, double weightedShare,
        int pendingGpus) {

    /** The entry of a class, or null when the pool has no such class. */
    public ClassAccount gpuClass(String name) {
        for (ClassAccount c : classes) {
            if (c.gpuClass().equals(name)) {
                return c;
            }
        }
        return null;
    }
}
