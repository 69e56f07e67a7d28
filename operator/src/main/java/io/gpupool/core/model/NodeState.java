package io.gpupool.core.model;

/** Whether a node takes replicas, and whether the replicas on it may stay. */
public enum NodeState {
    /** Ready and schedulable: takes new replicas. */
    SCHEDULABLE,
    /**
     * Not ready, for less than the heartbeat timeout: keeps its replicas (a kubelet that restarts should not move
     * them), takes no new ones.
     */
    NOT_READY,
    /**
     * Its contributor is taking it back (cordoned, labelled out of the pool, the contributor chart uninstalled): takes no
     * new replicas, and its replicas are placed elsewhere. Their pods keep their GPUs until they stop, and the operator
     * keeps them serving until their replacements are ready (the withdrawal handover).
     */
    WITHDRAWING,
    /**
     * Gone (deleted, silent past the heartbeat timeout, or not ready for that long): its replicas must be placed
     * elsewhere.
     */
    GONE;

    /** Whether replicas assigned to a node in this state stay assigned to it. */
    public boolean keepsReplicas() {
        return this == SCHEDULABLE || this == NOT_READY;
    }
}
