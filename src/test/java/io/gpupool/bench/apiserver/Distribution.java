package io.gpupool.bench.apiserver;

import java.util.Arrays;
import java.util.Collection;

/** Durations in milliseconds and their percentiles (nearest rank, as the trace simulator reports them). */
record Distribution(double[] sortedMillis) {

    static Distribution ofNanos(Collection<Long> nanos) {
        double[] ms = nanos.stream().mapToDouble(n -> n / 1e6).sorted().toArray();
        return new Distribution(ms);
    }

    int count() {
        return sortedMillis.length;
    }

    /** The p-th percentile (0 < p <= 100), nearest rank; NaN when empty. */
    double percentile(double p) {
        if (sortedMillis.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sortedMillis.length);
        return sortedMillis[Math.min(sortedMillis.length, Math.max(1, rank)) - 1];
    }

    double max() {
        return sortedMillis.length == 0 ? Double.NaN : sortedMillis[sortedMillis.length - 1];
    }

    double mean() {
        return Arrays.stream(sortedMillis).average().orElse(Double.NaN);
    }
}
