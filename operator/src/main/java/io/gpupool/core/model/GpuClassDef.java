package io.gpupool.core.model;

import java.util.List;

/**
 * A GpuClass: which GPUs it holds and what one of its GPUs is worth relative to a reference card.
 *
 * @param productGlobs GFD product names with * and ? globs; empty matches any product
 * @param minMemoryMiB least memory per GPU, or 0
 * @param value        contribution units per GPU (weights the class in dominant-share computations)
 */
public record GpuClassDef(String name, List<String> productGlobs, long minMemoryMiB, double value) {
}
