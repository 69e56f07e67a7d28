package io.gpupool.sim;

/**
 * A fixed-size histogram of non-negative delays in whole seconds: exact below {@value #EXACT} s, then logarithmic
 * buckets 0.5 % wide (a percentile above {@value #EXACT} s is off by at most 0.5 %). About 8,000 counters whatever the
 * number of samples. Percentiles use the nearest-rank method; the maximum is exact.
 */
final class Histogram {

    static final int EXACT = 4096;
    private static final double GROWTH = 1.005;
    private static final int LOG_BUCKETS = (int) Math.ceil(Math.log(Long.MAX_VALUE / (double) EXACT) / Math.log(GROWTH)) + 1;

    private final long[] counts = new long[EXACT + LOG_BUCKETS];
    private long count;
    private long max = -1;

    void add(long v) {
        add(v, 1);
    }

    /** {@code n} samples of value {@code v}. */
    void add(long v, long n) {
        v = Math.max(0, v);
        counts[bucket(v)] += n;
        count += n;
        max = Math.max(max, v);
    }

    private static int bucket(long v) {
        if (v < EXACT) {
            return (int) v;
        }
        return EXACT + Math.min(LOG_BUCKETS - 1, (int) Math.floor(Math.log(v / (double) EXACT) / Math.log(GROWTH)));
    }

    private static long value(int b) {
        if (b < EXACT) {
            return b;
        }
        return Math.round(EXACT * Math.pow(GROWTH, b - EXACT + 0.5));
    }

    long count() {
        return count;
    }

    /** Nearest-rank percentile, or -1 without samples. */
    long percentile(double q) {
        if (count == 0) {
            return -1;
        }
        long rank = Math.max(1, (long) Math.ceil(q * count));
        long seen = 0;
        for (int b = 0; b < counts.length; b++) {
            seen += counts[b];
            if (seen >= rank) {
                return Math.min(value(b), max);
            }
        }
        return max;
    }

    long max() {
        return max;
    }
}
