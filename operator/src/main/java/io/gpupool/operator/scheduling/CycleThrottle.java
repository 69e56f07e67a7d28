package io.gpupool.operator.scheduling;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How often admission cycles run while demands keep coming, as in a burst of applies. A demand that finds the last
 * cycle ended long enough ago is decided at once; one that comes sooner waits until {@link #FACTOR} times that cycle's
 * duration has passed since it ended, and every demand handed in meanwhile is decided by the same next cycle. So
 * however fast demands come, cycles take at most a tenth of a core ({@code 1 / (FACTOR + 1)}), and the wait this adds
 * to an admission is at most {@link #MAX_WAIT_MILLIS} (plus the cycle itself): nothing at a steady few applies a second
 * (cycles of a pool of thousands take milliseconds), a few tens of milliseconds in a burst.
 *
 * <p>A cycle's duration is the CPU time of the thread that ran it, not its wall time: on a busy machine most of a
 * cycle's wall time is spent waiting for a core, and nine times that made admissions wait up to the cap for a cycle
 * that asked no more of the CPU than on a quiet one. The worst case of the window stays {@link #MAX_WAIT_MILLIS} plus
 * one cycle (plus waiting for the scheduler's lock while another cycle runs).
 */
final class CycleThrottle {

    /** Waiting time per unit of cycle time: cycles use at most 1 / (FACTOR + 1) of a core. */
    static final int FACTOR = 9;
    /** The longest wait, whatever a cycle costs. */
    static final long MAX_WAIT_MILLIS = 250;

    private final LongSupplier nanoTime;
    private final LongSupplier cpuNanoTime;
    private long lastEnd = Long.MIN_VALUE;
    private long lastDuration;

    CycleThrottle() {
        this(System::nanoTime, threadCpuTime());
    }

    /** A throttle whose clock measures cycles too (tests). */
    CycleThrottle(LongSupplier nanoTime) {
        this(nanoTime, nanoTime);
    }

    CycleThrottle(LongSupplier nanoTime, LongSupplier cpuNanoTime) {
        this.nanoTime = nanoTime;
        this.cpuNanoTime = cpuNanoTime;
    }

    /** The current thread's CPU time, where the JVM measures it (HotSpot on Linux does); the wall clock otherwise. */
    private static LongSupplier threadCpuTime() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (threads.isCurrentThreadCpuTimeSupported()) {
            if (!threads.isThreadCpuTimeEnabled()) {
                threads.setThreadCpuTimeEnabled(true);
            }
            return threads::getCurrentThreadCpuTime;
        }
        return System::nanoTime;
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

    /** Notes a cycle that started at {@code startNanos} ({@link #now()} on the same thread) and has just ended. */
    synchronized void ran(long startNanos) {
        lastEnd = nanoTime.getAsLong();
        lastDuration = Math.max(0, cpuNanoTime.getAsLong() - startNanos);
    }

    /** The start of a cycle, in the throttle's measure of cycles (the thread's CPU time). */
    long now() {
        return cpuNanoTime.getAsLong();
    }
}
