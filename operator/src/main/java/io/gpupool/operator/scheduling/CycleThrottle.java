package io.gpupool.operator.scheduling;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How often admission cycles run while demands keep coming, as in a burst of applies. A demand that finds the last
 * cycle ended long enough ago is decided at once; one that comes sooner waits until {@link #FACTOR} times that cycle's
 * duration has passed since it ended, and every demand handed in meanwhile is decided by the same next cycle. So
 * however fast demands come, cycles take at most a tenth of a core ({@code 1 / (FACTOR + 1)}), and the wait this adds
 * to an admission is at most {@link #MAX_WAIT_MILLIS} (plus the cycle itself): nothing at a steady few applies a second
 * (cycles of a pool of thousands take milliseconds), a few tens of milliseconds in a burst.
 */
final class CycleThrottle {

    /** Waiting time per unit of cycle time: cycles use at most 1 / (FACTOR + 1) of a core. */
    static final int FACTOR = 9;
    /** The longest wait, whatever a cycle costs. */
    static final long MAX_WAIT_MILLIS = 250;

    private final LongSupplier nanoTime;
    private long lastEnd = Long.MIN_VALUE;
    private long lastDuration;

    CycleThrottle() {
        this(System::nanoTime);
    }

    CycleThrottle(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** How long a demand handed in now waits before its cycle runs (0: at once). */
    synchronized long nanosToWait() {
        if (lastEnd == Long.MIN_VALUE) {
            return 0;
        }
        long wait = Math.min(lastDuration * FACTOR, TimeUnit.MILLISECONDS.toNanos(MAX_WAIT_MILLIS));
        return Math.max(0, lastEnd + wait - nanoTime.getAsLong());
    }

    /** Waits {@link #nanosToWait()}. */
    void awaitTurn() {
        long wait = nanosToWait();
        if (wait > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Notes a cycle that started at {@code startNanos} and has just ended. */
    synchronized void ran(long startNanos) {
        lastEnd = nanoTime.getAsLong();
        lastDuration = Math.max(0, lastEnd - startNanos);
    }

    long now() {
        return nanoTime.getAsLong();
    }
}
