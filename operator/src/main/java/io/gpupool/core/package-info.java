/**
 * The pure core of gpupool: admission and placement, memory estimation, validation and rendering of desired objects.
 * Plain Java functions over plain data: no Kubernetes client, no I/O, no clock but the one passed in. The reconcilers,
 * the contributor agent, the playground, the trace simulator and the benchmarks all call this package, so every
 * decision is made in one place.
 */
package io.gpupool.core;
