package io.gpupool.bench.apiserver;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Samples the 1-minute load average every 2 s, so that each figure carries the load it was measured under. */
final class LoadSampler implements AutoCloseable {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "load-sampler");
        t.setDaemon(true);
        return t;
    });
    private double sum;
    private long samples;

    LoadSampler() {
        timer.scheduleAtFixedRate(this::sample, 0, 2, TimeUnit.SECONDS);
    }

    private synchronized void sample() {
        double l = ProcStats.load1();
        if (!Double.isNaN(l)) {
            sum += l;
            samples++;
        }
    }

    /** Starts a measurement window. */
    synchronized Window window() {
        return new Window(this, sum, samples, ProcStats.load1());
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    /** The samples taken since the window started; its mean is what a figure is reported with. */
    static final class Window {
        private final LoadSampler sampler;
        private final double sum0;
        private final long n0;
        private final double first;
        private Double frozenMean;
        private String frozenEnd;

        Window(LoadSampler sampler, double sum0, long n0, double first) {
            this.sampler = sampler;
            this.sum0 = sum0;
            this.n0 = n0;
            this.first = first;
        }

        /** Ends the window: later calls report the same figures. */
        Window end() {
            synchronized (sampler) {
                long n = sampler.samples - n0;
                frozenMean = n == 0 ? first : (sampler.sum - sum0) / n;
            }
            frozenEnd = ProcStats.loadavg();
            return this;
        }

        double mean() {
            if (frozenMean == null) {
                end();
            }
            return frozenMean;
        }

        String endLoadavg() {
            if (frozenEnd == null) {
                end();
            }
            return frozenEnd;
        }
    }
}
