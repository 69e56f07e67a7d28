package io.gpupool.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.testing.PoolFixtures;

/**
 * What a reconcile pays to know whether a serving Deployment is up to date: rendering it, and its JSON (the desired
 * hash is the SHA-256 of that JSON). Both ran at every reconcile of an admitted ModelDeployment: a sixth of the
 * operator's CPU in {@code hack/bench-apiserver.sh admission}.
 *
 * <p>Run with {@code hack/bench.sh RenderDeployment -f 1 -wi 2 -i 3}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = { "-XX:ActiveProcessorCount=1", "-Xmx512m" })
public class RenderDeploymentBenchmark {

    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    private final ModelDeployment md = PoolFixtures.modelDeployment("lab", "llama-8b", 1, 1);
    private final List<Placement> placements = List.of(new Placement("local", "node-1", "l4", 1));
    private final Deployment rendered = render();

    @Benchmark
    public Deployment render() {
        return ServingRenderer.deployments(md, placements, ServingSettings.DEFAULT).get(0);
    }

    @Benchmark
    public String json() {
        return JSON.asJson(rendered);
    }
}
