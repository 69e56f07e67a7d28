package io.gpupool.bench.apiserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.Serialization;

/**
 * The JVM options the operator chart ships (values.yaml {@code jvm.options}), for a JVM outside a container: the
 * chart's memory limit becomes {@code -XX:MaxRAM}, which is what the JVM sizes its heap from inside the container
 * (the options' {@code -XX:MaxRAMPercentage} of it), so the benchmark measures the operator as the chart runs it.
 */
final class ChartJvm {

    static final Path VALUES = Path.of("charts", "gpupool-operator", "values.yaml");

    private ChartJvm() {
    }

    /**
     * @param memoryLimit the container's memory limit as a pool of the benchmark's size sets it (values.yaml documents
     *                    the curve); null for the chart's default
     */
    @SuppressWarnings("unchecked")
    static List<String> options(String memoryLimit) throws IOException {
        Map<String, Object> values = Serialization.unmarshal(Files.readString(VALUES), Map.class);
        Map<String, Object> jvm = (Map<String, Object>) values.getOrDefault("jvm", Map.of());
        Map<String, Object> resources = (Map<String, Object>) values.getOrDefault("resources", Map.of());
        Map<String, Object> limits = (Map<String, Object>) resources.getOrDefault("limits", Map.of());
        List<String> out = new ArrayList<>();
        Object options = jvm.get("options");
        if (options != null && !options.toString().isBlank()) {
            out.addAll(Arrays.asList(options.toString().trim().split("\\s+")));
        }
        Object memory = memoryLimit != null ? memoryLimit : limits.get("memory");
        if (memory != null) {
            out.add("-XX:MaxRAM=" + Quantity.getAmountInBytes(new Quantity(memory.toString())).toBigInteger());
        }
        return out;
    }

    /** The environment the chart gives the operator's JVM besides its options. */
    static Map<String, String> environment() {
        return Map.of("MALLOC_ARENA_MAX", "2");
    }
}
