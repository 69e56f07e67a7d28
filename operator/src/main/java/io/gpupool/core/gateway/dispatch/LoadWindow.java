package io.gpupool.core.gateway.dispatch;

/**
 * The time-weighted mean of a step function (a model's in-flight plus queued requests) over a sliding window, kept in
 * a ring of buckets that each hold the area (value × milliseconds) of a slice of the window: constant memory however
 * often the value changes, and a mean accurate to one bucket's width. Times come from the caller (the dispatcher's
 * injected clock). Not thread-safe: its dispatcher calls it under its lock.
 */
public final class LoadWindow {

    static final int BUCKETS = 10;

    private final long bucketMillis;
    /** One slot more than the window's buckets: the oldest one, partly out of the window, counts pro rata. */
    private static final int SLOTS = BUCKETS + 1;

    private final long windowMillis;
    private final double[] area = new double[SLOTS];
    /** The bucket number (time / bucketMillis) each slot last held; slots of older buckets count as empty. */
    private final long[] bucketOf = new long[SLOTS];
    private final long startMillis;
    private long lastMillis;
    private double value;

    public LoadWindow(long windowMillis, long nowMillis) {
        this.bucketMillis = Math.max(1, windowMillis / BUCKETS);
        this.windowMillis = bucketMillis * BUCKETS;
        this.lastMillis = nowMillis;
        this.startMillis = nowMillis;
        java.util.Arrays.fill(bucketOf, -1);
    }

    /** The value changes to {@code next} at {@code nowMillis}. */
    public void set(long nowMillis, double next) {
        advance(nowMillis);
        value = next;
    }

    /** The mean over the last window ending at {@code nowMillis} (the value now, before the window has filled). */
    public double mean(long nowMillis) {
        advance(nowMillis);
        long current = nowMillis / bucketMillis;
        long windowStart = Math.max(nowMillis - windowMillis, startMillis);
        double sum = 0;
        long covered = 0;
        for (int i = 0; i < SLOTS; i++) {
            long b = bucketOf[i];
            if (b < 0 || b < current - BUCKETS) {
                continue;
            }
            long from = Math.max(b * bucketMillis, startMillis);
            long to = Math.min((b + 1) * bucketMillis, nowMillis);
            long inWindow = to - Math.max(from, windowStart);
            if (to <= from || inWindow <= 0) {
                continue;
            }
            // The area is taken as spread evenly over its bucket: exact for the buckets wholly in the window.
            sum += area[i] * inWindow / (to - from);
            covered += inWindow;
        }
        return covered <= 0 ? value : sum / covered;
    }

    /** Adds the area of the current value from the last change until {@code nowMillis}, bucket by bucket. */
    private void advance(long nowMillis) {
        long t = lastMillis;
        if (nowMillis <= t) {
            touch(nowMillis / bucketMillis);
            return;
        }
        // Only the last window matters: skip anything older.
        t = Math.max(t, nowMillis - SLOTS * bucketMillis);
        while (t < nowMillis) {
            long b = t / bucketMillis;
            long end = Math.min(nowMillis, (b + 1) * bucketMillis);
            int slot = touch(b);
            area[slot] += value * (end - t);
            t = end;
        }
        lastMillis = nowMillis;
        touch(nowMillis / bucketMillis);
    }

    /** The slot of bucket {@code b}, emptied if it held an older bucket. */
    private int touch(long b) {
        int slot = (int) (b % SLOTS);
        if (bucketOf[slot] != b) {
            bucketOf[slot] = b;
            area[slot] = 0;
        }
        return slot;
    }
}
