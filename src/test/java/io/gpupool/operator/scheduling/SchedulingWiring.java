package io.gpupool.operator.scheduling;

import io.gpupool.operator.ledger.PoolLedger;

/**
 * What Quarkus CDI does for the scheduling beans, for tests that run the operator in-process without Quarkus (the
 * real-API-server tier): the publisher's {@code @Observes StartupEvent} registration and the rebalancer's
 * {@code @PreDestroy}.
 */
public final class SchedulingWiring {

    private SchedulingWiring() {
    }

    /**
     * As {@code PoolStatusPublisher.register} does on start-up: the ledger, then the pool status, after cycles; and
     * explain GpuNodes the pool does not believe.
     */
    public static void publishStatusAfterEachCycle(PoolScheduler scheduler, PoolStatusPublisher publisher) {
        publisher.attach(scheduler);
    }

    public static void stop(PoolRebalancer rebalancer, PoolStatusPublisher publisher) {
        try {
            rebalancer.stop();
        } finally {
            publisher.stop();
        }
    }
}
