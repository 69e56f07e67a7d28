package io.gpupool.core.model;

/**
 * Why replicas of a workload wait.
 *
 * @param reason  a condition reason: QuotaExceeded, NoMatchingGpu, InsufficientCapacity or Preempting
 * @param message a sentence a person understands
 */
public record PendingReason(String reason, String message) {

    public static final String QUOTA_EXCEEDED = "QuotaExceeded";
    public static final String NO_MATCHING_GPU = "NoMatchingGpu";
    public static final String INSUFFICIENT_CAPACITY = "InsufficientCapacity";
    public static final String PREEMPTING = "Preempting";
}
