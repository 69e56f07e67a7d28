package io.gpupool.operator.metrics;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * JOSDK's reconcile metrics ({@code operator_sdk_*}: reconciliations started, succeeded, failed, retried; events; the
 * reconcile timer) in the operator's Prometheus registry. quarkus-operator-sdk's default Metrics bean only switches from
 * no-op to Micrometer when the registry binds it, which can come after the operator read it: then nothing was
 * exported. Without per-resource meters, so that the series do not grow with the number of ModelDeployments.
 */
@Singleton
public class JosdkMetrics {

    @Produces
    @Singleton
    Metrics josdkMetrics(MeterRegistry registry) {
        return MicrometerMetrics.withoutPerResourceMetrics(registry);
    }
}
