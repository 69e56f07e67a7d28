package io.gpupool.gateway;

import java.time.Duration;

import io.gpupool.core.gateway.dispatch.QueueLimits;

/**
 * What a gateway process needs to know.
 *
 * @param host            address the OpenAI-compatible API listens on
 * @param port            its port (0: any free port, for tests)
 * @param maxBodyBytes    largest request body accepted (413 beyond)
 * @param queue           per-model queue bounds (429 beyond)
 * @param namespace       the gateway's namespace: where its report slots live
 * @param name            the gateway's name (its Deployment): report slots are named after it
 * @param instance        this process's identity, for leases: pod name and a random process id
 * @param reportInterval  how often metered counts are written to the report slot (at most)
 * @param drain           on stop, how long requests in flight may take to finish
 */
public record GatewaySettings(String host, int port, long maxBodyBytes, QueueLimits queue, String namespace,
        String name, String instance, Duration reportInterval, Duration drain) {

    public static final String DEFAULT_NAME = "gpupool-gateway";

    public GatewaySettings {
        if (namespace == null || namespace.isBlank()) {
            throw new IllegalArgumentException("gpupool.gateway.namespace is required (the gateway's own namespace, "
                    + "where it writes its usage reports)");
        }
    }

    /** Settings for a test or the playground: any port, short intervals. */
    public static GatewaySettings forTest(String namespace, String instance) {
        return new GatewaySettings("127.0.0.1", 0, 8L << 20, QueueLimits.DEFAULT, namespace, DEFAULT_NAME, instance,
                Duration.ofMillis(500), Duration.ofSeconds(10));
    }

    public GatewaySettings withQueue(QueueLimits limits) {
        return new GatewaySettings(host, port, maxBodyBytes, limits, namespace, name, instance, reportInterval, drain);
    }

    public GatewaySettings withMaxBodyBytes(long bytes) {
        return new GatewaySettings(host, port, bytes, queue, namespace, name, instance, reportInterval, drain);
    }

    public GatewaySettings withHost(String host) {
        return new GatewaySettings(host, port, maxBodyBytes, queue, namespace, name, instance, reportInterval, drain);
    }
}
