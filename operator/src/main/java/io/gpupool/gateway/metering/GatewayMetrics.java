package io.gpupool.gateway.metering;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.gpupool.core.gateway.dispatch.ModelDispatcher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

/**
 * The gateway's Prometheus metrics (on the management port's /metrics): requests by model, organization and status
 * code; end-to-end, queue-wait and time-to-first-byte latency histograms; tokens by organization, model, cluster and
 * kind; requests in flight and waiting per model.
 */
public final class GatewayMetrics {

    private static final Duration[] SLOS = { Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(25),
            Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofSeconds(10),
            Duration.ofSeconds(60) };

    private final MeterRegistry registry;
    private final Map<String, Boolean> gauges = new ConcurrentHashMap<>();

    public GatewayMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void request(String model, String organization, int status, long nanos) {
        Counter.builder("gpupool_gateway_requests").description("Requests answered, by status code")
                .tags("model", model, "organization", organization, "code", Integer.toString(status))
                .register(registry).increment();
        timer("gpupool_gateway_request_duration", "From the request to the end of the answer", model).record(
                Duration.ofNanos(nanos));
    }

    /** A request refused before it reached a model (401, 400, 404 ...): counted by status only. */
    public void refused(int status) {
        Counter.builder("gpupool_gateway_requests").description("Requests answered, by status code")
                .tags("model", "", "organization", "", "code", Integer.toString(status)).register(registry).increment();
    }

    public void queueWait(String model, long nanos) {
        timer("gpupool_gateway_queue_wait", "Time waiting for a replica slot", model).record(Duration.ofNanos(nanos));
    }

    public void firstByte(String model, long nanos) {
        timer("gpupool_gateway_time_to_first_byte", "From the request to the first byte sent to the client", model)
                .record(Duration.ofNanos(nanos));
    }

    public void tokens(String organization, String model, String cluster, long prompt, long completion) {
        if (prompt > 0) {
            tokenCounter(organization, model, cluster, "prompt").increment(prompt);
        }
        if (completion > 0) {
            tokenCounter(organization, model, cluster, "completion").increment(completion);
        }
    }

    public void retry(String model) {
        Counter.builder("gpupool_gateway_retries").description("Requests sent again to another replica")
                .tags("model", model).register(registry).increment();
    }

    /** In-flight and waiting requests of a model, read from its dispatcher. */
    public void watch(String model, ModelDispatcher dispatcher) {
        if (gauges.putIfAbsent(model, Boolean.TRUE) == null) {
            registry.gauge("gpupool_gateway_in_flight", Tags.of("model", model), dispatcher,
                    d -> d.stats().inFlight());
            registry.gauge("gpupool_gateway_queued", Tags.of("model", model), dispatcher, d -> d.stats().queued());
        }
    }

    private Counter tokenCounter(String organization, String model, String cluster, String kind) {
        return Counter.builder("gpupool_gateway_tokens").description("Tokens metered from the engines' usage")
                .tags("organization", organization, "model", model, "cluster", cluster, "kind", kind)
                .register(registry);
    }

    private Timer timer(String name, String description, String model) {
        return Timer.builder(name).description(description).tags("model", model).serviceLevelObjectives(SLOS)
                .register(registry);
    }
}
