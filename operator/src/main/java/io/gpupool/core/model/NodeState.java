package io.gpupool.core.model;

/** Whether a node takes replicas. */
public enum NodeState {
    /** Ready and schedulable: takes new replicas. */
    SCHEDULABLE,
    /** Cordoned, withdrawn or not ready for a short while: keeps its replicas, takes no new ones. */
    CORDONED,
    /** Gone (deleted, or silent past the heartbeat timeout): its replicas must be placed elsewhere. */
    GONE
}
