package io.gpupool.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.core.fairshare.QuotaAccounting;
import io.gpupool.core.fairshare.QuotaReport;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.testing.OperatorLoop;

/**
 * One fair-share admission cycle over 10,000 waiting replicas, 2,000 GPU nodes, 50 organizations and 6 GpuClasses
 * (scale 1), and the same with every dimension doubled (2) and quadrupled (4). About half of the pool's GPUs already
 * run replicas, some organizations far beyond their quota, so the cycle also revalidates, borrows and reclaims.
 *
 * <p>
 * Run with {@code hack/bench.sh AdmissionCycle -f 1 -wi 2 -i 3}. The forked JVM sees one processor
 * ({@code -XX:ActiveProcessorCount=1}), as the target is "under 50 ms median on one core" at scale 1.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = { "-XX:ActiveProcessorCount=1", "-Xms2g", "-Xmx4g" })
public class AdmissionCycleBenchmark {

    @Param({ "1", "2", "4" })
    public int scale;

    private PoolSnapshot snapshot;
    private PoolSnapshot next;
    private CycleResult first;
    private final FairShareAdmission engine = new FairShareAdmission();

    @Setup(Level.Trial)
    public void setUp() {
        snapshot = SyntheticPool.generate(42, 10_000 * scale, 2_000 * scale, 50 * scale, 6 * scale);
        // The cycle after: its result applied as the operator does, the evicted pods gone.
        first = engine.cycle(snapshot);
        next = OperatorLoop.podsGone(OperatorLoop.apply(snapshot, first, true));
    }

    /** The first cycle over the busy pool: revalidates, reclaims (hundreds of evictions), borrows. */
    @Benchmark
    public CycleResult cycle() {
        return engine.cycle(snapshot);
    }

    /** The quota figures of the first cycle (Organization status, metrics, simulator): once per cycle. */
    @Benchmark
    public QuotaReport accounting() {
        return QuotaAccounting.report(snapshot, first);
    }

    /** The cycle after it: claims are honoured, the rest mostly waits. */
    @Benchmark
    public CycleResult nextCycle() {
        return engine.cycle(next);
    }
}
