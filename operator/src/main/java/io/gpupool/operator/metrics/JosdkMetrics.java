package io.gpupool.operator.metrics;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.config.MeterFilter;

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

    /**
     * JOSDK tags a core kind (Node) without the {@code group} it gives custom kinds (ModelDeployment), and Prometheus
     * keeps one set of label names per metric: whichever kind reconciled first would hide the others. Every
     * {@code operator.sdk} meter gets a {@code group} ("core" for the core API group).
     */
    @Produces
    @Singleton
    MeterFilter josdkGroupTag() {
        return new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                if (id.getName().startsWith("operator.sdk.") && id.getTag("group") == null && id.getTag("kind") != null) {
                    return id.withTag(Tag.of("group", "core"));
                }
                return id;
            }
        };
    }
}
