package io.gpupool.bench.apiserver;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/** Runs a task for 0..n-1 on a fixed number of threads (the benchmark's writers), in index order per thread. */
final class Parallel {

    private Parallel() {
    }

    static void forEach(int n, int threads, IntConsumer task) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        for (int t = 0; t < Math.max(1, threads); t++) {
            pool.execute(() -> {
                for (int i = next.getAndIncrement(); i < n && failure.get() == null; i = next.getAndIncrement()) {
                    try {
                        task.accept(i);
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, e);
                    }
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(7, TimeUnit.DAYS);
        if (failure.get() != null) {
            throw failure.get();
        }
    }
}
