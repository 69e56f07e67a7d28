package io.gpupool.core.gateway.dispatch;

/** What became of a ticket handed to the dispatcher. */
public sealed interface Decision {

    /** Sent at once. */
    record Dispatched(Grant grant) implements Decision {
    }

    /** Waiting in its organization's queue; a grant follows through the dispatcher's listener, or a timeout. */
    record Queued() implements Decision {
    }

    /**
     * Held: the model autoscales and has no ready replica yet (scale from zero). It waits in its organization's queue
     * like a queued request, for longer (the cold-start wait); the gateway tells the operator at once.
     */
    record Held() implements Decision {
    }

    /** Refused: the organization's queue is full, or the model has no replica to send it to. */
    record Rejected(Reason reason, int retryAfterSeconds) implements Decision {
    }

    enum Reason {
        QUEUE_FULL, NO_REPLICA
    }
}
