package io.gpupool.gateway;

import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Configuration of the gateway role (gpupool.gateway.*, env GPUPOOL_GATEWAY_*), set by the operator chart. */
@ConfigMapping(prefix = "gpupool.gateway")
public interface GatewayConfig {

    /** Address of the OpenAI-compatible API. */
    @WithDefault("0.0.0.0")
    String host();

    /** Port of the OpenAI-compatible API (health and metrics stay on the management port). */
    @WithDefault("8000")
    int port();

    /** Largest request body accepted, in bytes (larger: 413). */
    @WithDefault("8388608")
    long maxBodyBytes();

    /** Requests one organization may have waiting for one model (more: 429). */
    @WithDefault("1000")
    int maxQueuedPerOrganization();

    /** Seconds a request may wait for a free replica slot (longer: 429). */
    @WithDefault("60")
    int maxQueueWaitSeconds();

    /**
     * Seconds a request to an autoscaled model with no ready replica is held while the operator starts one (scale from
     * zero); longer: 503 with Retry-After.
     */
    @WithDefault("180")
    int maxColdStartWaitSeconds();

    /** Seconds over which a model's in-flight plus queued requests are averaged for the operator's autoscaler. */
    @WithDefault("30")
    int loadWindowSeconds();

    /** The gateway's namespace (the chart sets it from the pod's). */
    Optional<String> namespace();

    /** The gateway's name: its report slots are named {@code <name>-<n>}. */
    @WithDefault(GatewaySettings.DEFAULT_NAME)
    String name();

    /** This pod's name (the chart sets it from the pod's). */
    Optional<String> podName();

    /** Seconds between writes of the metered counts (at most). */
    @WithDefault("5")
    int reportIntervalSeconds();

    /**
     * Gateway replicas serving the gateway's URL (the chart's gateway.replicas): contributed clusters' agents keep one
     * tunnel to each.
     */
    @WithDefault("1")
    int replicas();

    /** Seconds requests in flight may take to finish when the gateway stops. */
    @WithDefault("30")
    int drainSeconds();
}
