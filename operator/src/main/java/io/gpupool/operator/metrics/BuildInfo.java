package io.gpupool.operator.metrics;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;

/**
 * {@code gpupool_build_info{version, role, java_version}} = 1, like Kueue's kueue_build_info: which build runs where,
 * for dashboards and for joining with the other series.
 */
@ApplicationScoped
public class BuildInfo {

    void register(@Observes StartupEvent start, MeterRegistry registry,
            @ConfigProperty(name = "quarkus.application.version", defaultValue = "unknown") String version,
            @ConfigProperty(name = "gpupool.role", defaultValue = "operator") String role) {
        Gauge.builder("gpupool_build_info", () -> 1).description("The running gpupool build (always 1)")
                .tag("version", version).tag("role", role).tag("java_version", System.getProperty("java.version"))
                .strongReference(true).register(registry);
    }
}
