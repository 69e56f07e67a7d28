package io.gpupool.core.model;

import java.time.Instant;

/**
 * A node its contributor is taking back (state {@link NodeState#WITHDRAWING}).
 *
 * @param gpuClass its GPUs' class, for the replicas that keep serving there during the handover
 * @param since    when the pool first saw it withdrawn (its handover is timed from then)
 */
public record Withdrawal(String gpuClass, Instant since) {
}
