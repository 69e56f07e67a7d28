package io.gpupool.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceSimulatorTest {

    static final String POOL_HEADER = "cluster,node,organization,gpu_product,gpu_memory_mib,gpus,joins_at_s,leaves_at_s\n";
    static final String WORKLOAD_HEADER = "id,organization,submit_s,duration_s,gpus_per_replica,replicas,"
            + "min_gpu_memory_mib,priority,shared\n";

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    /** Two organizations with one 4-GPU node each; b asks for both nodes first, a wants its own node back at t=10. */
    private TraceSimulator.Options tiny() throws IOException {
        Path pool = write("pool.csv", POOL_HEADER + "c,a1,a,NVIDIA-L4,23034,4,0,\nc,b1,b,NVIDIA-L4,23034,4,0,\n");
        Path work = write("work.csv", WORKLOAD_HEADER
                + "b-1,b,0,100,4,1,,,\n"
                + "b-2,b,0,100,4,1,,,\n"
                + "a-1,a,10,50,4,1,,,\n");
        return TraceSimulator.Options.of(pool, work).withClasses(null);
    }

    private static SimResult result(List<SimResult> rs, String policy) {
        return rs.stream().filter(r -> r.policy().equals(policy)).findFirst().orElseThrow();
    }

    @Test
    void fifoAdmitsInOrder() throws IOException {
        SimResult r = result(TraceSimulator.run(tiny()), "fifo");
        // b-1, b-2 run 0..100 on both nodes; a-1 waits 90 s and runs 100..150. 1000 GPU-s of 8 x 150.
        assertThat(r.utilization()).isCloseTo(1000.0 / 1200, within(1e-9));
        assertThat(r.delayP50()).isZero();
        assertThat(r.delayP99()).isEqualTo(90);
        assertThat(r.preemptedReplicas()).isZero();
        assertThat(r.finished()).isEqualTo(3);
        // x_a = 200/150, x_b = 800/150: J = (1000)^2 / (2 * (200^2 + 800^2))
        assertThat(r.jain()).isCloseTo(1000.0 * 1000 / (2 * (200.0 * 200 + 800.0 * 800)), within(1e-9));
    }

    @Test
    void fairnessAgainstEntitlementTellsFifoFromFairShare() throws IOException {
        List<SimResult> rs = TraceSimulator.run(tiny());
        // From 10 to 100 the pool is contended (a asks for 4, b for 8, of 8 GPUs); each is entitled to what it
        // contributes, 4. FIFO: a receives 0, b 8 (capped at 1): fractions 0 and 1, Jain 1² / (2 · 1) = 0.5.
        SimResult fifo = result(rs, "fifo");
        assertThat(fifo.fairness()).isCloseTo(0.5, within(1e-9));
        assertThat(fifo.worstOrganization()).isEqualTo("a");
        assertThat(fifo.worstFraction()).isZero();
        assertThat(fifo.lostGpuHours()).isZero();
        // Fair share: a reclaims its node at 10 and both get their 4 while contended (10 to 60): Jain 1. b-2 had
        // run 10 s on 4 GPUs when it was evicted: 40 GPU-seconds lost; one restart in 150 s.
        SimResult fair = result(rs, "fair");
        assertThat(fair.fairness()).isCloseTo(1.0, within(1e-9));
        assertThat(fair.worstFraction()).isCloseTo(1.0, within(1e-9));
        assertThat(fair.lostGpuHours()).isCloseTo(40 / 3600.0, within(1e-9));
        assertThat(fair.restartsPerHour()).isCloseTo(3600.0 / 150, within(1e-9));
        assertThat(TraceSimulator.table(rs)).contains("fairness (Jain, received / entitled)", "equality (raw Jain)",
                "contribution-weighted + memory");
    }

    @Test
    void staticQuotasWithoutBorrowingLeaveGpusIdle() throws IOException {
        SimResult r = result(TraceSimulator.run(tiny()), "static");
        // b-1 0..100; b-2 may not borrow a's idle node and waits until 100, runs 100..200; a-1 10..60.
        assertThat(r.utilization()).isCloseTo(1000.0 / 1600, within(1e-9));
        assertThat(r.delayP50()).isZero();
        assertThat(r.delayP99()).isEqualTo(100);
        assertThat(r.preemptedReplicas()).isZero();
        assertThat(r.finished()).isEqualTo(3);
    }

    @Test
    void fairShareBorrowsAndReclaims() throws IOException {
        SimResult r = result(TraceSimulator.run(tiny()), "fair");
        // b-2 borrows a's node at 0; a-1 evicts it at 10 and runs 10..60 (claim honoured at the same instant);
        // b-2 resumes its remaining 90 s at 60 and ends at 150.
        assertThat(r.preemptedReplicas()).isEqualTo(1);
        assertThat(r.reclaimCount()).isEqualTo(1);
        assertThat(r.reclaimP50()).isZero();
        assertThat(r.reclaimMax()).isZero();
        assertThat(r.delayP99()).isZero();
        assertThat(r.utilization()).isCloseTo(1000.0 / 1200, within(1e-9));
        assertThat(r.busy()).isCloseTo(1000.0 / 1200, within(1e-9));
        assertThat(r.finished()).isEqualTo(3);
    }

    @Test
    void contributionWeightedFinishesEverything() throws IOException {
        SimResult r = result(TraceSimulator.run(tiny()), "contribution");
        assertThat(r.finished()).isEqualTo(3);
        assertThat(r.unfinished()).isZero();
    }

    @Test
    void nodeLeavingMovesItsReplicas() throws IOException {
        Path pool = write("pool.csv", POOL_HEADER + "c,n1,a,NVIDIA-L4,23034,4,0,30\nc,n2,a,NVIDIA-L4,23034,4,0,\n");
        Path work = write("work.csv", WORKLOAD_HEADER + "j1,a,0,100,4,1,,,\n");
        for (SimResult r : TraceSimulator.run(TraceSimulator.Options.of(pool, work).withClasses(null))) {
            // n1 is the tighter fit by name; when it leaves at 30, j1 moves to n2 and runs its remaining 70 s.
            assertThat(r.finished()).as(r.policy()).isEqualTo(1);
            assertThat(r.delayP99()).as(r.policy()).isZero();
        }
    }

    @Test
    void sampleTraceWithDefaultClassesAndOutputs() {
        Path csv = dir.resolve("out.csv");
        Path svg = dir.resolve("out.svg");
        List<SimResult> rs = TraceSimulator.run(TraceSimulator.Options
                .of(Path.of("examples/trace/pool.csv"), Path.of("examples/trace/workload.csv"))
                .withPolicies("fair").withOutputs(csv, svg));
        assertThat(rs).hasSize(1);
        assertThat(rs.get(0).finished()).isPositive();
        assertThat(csv).content().startsWith("policy,time_s,organization,gpus_in_use\n").contains("fair,");
        assertThat(svg).content().startsWith("<svg").contains("polyline").endsWith("</svg>\n");
        assertThat(rs.get(0).unfinished()).isZero();
        assertThat(rs.get(0).reclaimCount()).isPositive();
        assertThat(TraceSimulator.table(rs)).contains("fair share + borrowing");
        // The sample trace's two autoscaled services.
        assertThat(rs.get(0).services()).isEqualTo(2);
        assertThat(rs.get(0).serviceGpuHours()).isPositive().isLessThan(rs.get(0).serviceGpuHoursAtMax());
    }

    // ---- autoscaled services (request-rate columns)

    static final String SERVICE_HEADER = "id,organization,submit_s,duration_s,gpus_per_replica,replicas,"
            + "min_gpu_memory_mib,priority,shared,min_replicas,max_replicas,request_rate,rate_period_s,request_s,"
            + "target_in_flight,scale_down_delay_s,cold_start_s\n";

    @Test
    void anAutoscaledServiceHoldsGpusOnlyWhileItHasLoadAndItsFirstRequestsWaitForTheColdStart() throws IOException {
        // 1000 s busy (4 requests/s of 1 s at 1 in flight per replica: 4 replicas, more while the backlog of the cold
        // start drains), then 2000 s idle, then busy again.
        Path pool8 = write("pool8.csv", POOL_HEADER + "c,a1,a,NVIDIA-L4,23034,8,0,\n");
        Path work = write("work.csv", SERVICE_HEADER + "chat,a,0,4000,1,8,,,,0,8,4;0;0;4,1000,1,1,100,30\n");
        SimResult r = TraceSimulator.run(TraceSimulator.Options.of(pool8, work).withClasses(null)
                .withPolicies("fair")).get(0);
        assertThat(r.services()).isEqualTo(1);
        assertThat(r.finished()).isEqualTo(1);
        assertThat(r.requests() + r.refusedRequests()).isEqualTo(8000);
        // At maxReplicas throughout it would hold 8 GPUs × 4000 s; it holds them only while busy (plus the delay).
        assertThat(r.serviceGpuHoursAtMax()).isCloseTo(8 * 4000 / 3600.0, within(1e-9));
        assertThat(r.serviceGpuHours()).isLessThan(r.serviceGpuHoursAtMax() * 0.4).isGreaterThan(4 * 2000 / 3600.0 * 0.9);
        // Twice from zero: the first requests of each busy period waited for the 30 s cold start.
        assertThat(r.coldStarts()).isGreaterThanOrEqualTo(8);
        assertThat(r.requestLatencyP99()).isGreaterThan(10_000);
        assertThat(r.requestLatencyP50()).isEqualTo(1000);
        assertThat(TraceSimulator.servicesTable(List.of(r))).contains("| fair share + borrowing | 1 |");
    }

    @Test
    void serviceColumnsAreCheckedLikeTheOthers() throws IOException {
        assertFails(OK_POOL, SERVICE_HEADER + "s,a,0,10,1,1,,,,3,2,1,,,,,\n", "work.csv:2", "column min_replicas",
                "greater than max_replicas");
        assertFails(OK_POOL, SERVICE_HEADER + "s,a,0,10,1,1,,,,0,2,fast,,,,,\n", "column request_rate",
                "not a number");
        assertFails(OK_POOL, SERVICE_HEADER + "s,a,0,10,1,1,,,,,,2,,,,,\n", "column request_rate",
                "set max_replicas too");
    }

    @Test
    void onTheSampleTraceTheDefaultPolicyIsMeasurablyFairerThanFifo() {
        // README's table: raw equality rates FIFO above contribution-weighted (the pool's default mode), while
        // measured against entitlement FIFO leaves acme, the largest contributor, with 40 % of what it is owed.
        List<SimResult> rs = TraceSimulator.run(TraceSimulator.Options
                .of(Path.of("examples/trace/pool.csv"), Path.of("examples/trace/workload.csv"))
                .withPolicies("fifo,contribution"));
        SimResult fifo = result(rs, "fifo");
        SimResult contribution = result(rs, "contribution");
        assertThat(fifo.jain()).as("the old figure cannot tell").isGreaterThan(contribution.jain());
        assertThat(contribution.fairness() - fifo.fairness()).isGreaterThan(0.1);
        assertThat(fifo.worstOrganization()).isEqualTo("acme");
        assertThat(contribution.worstFraction()).isGreaterThan(fifo.worstFraction() + 0.3);
    }

    // ---- malformed input

    private void assertFails(String pool, String work, String... parts) throws IOException {
        Path p = write("pool.csv", pool);
        Path w = write("work.csv", work);
        assertThatThrownBy(() -> TraceSimulator.run(TraceSimulator.Options.of(p, w).withClasses(null)))
                .isInstanceOf(TraceFormatException.class)
                .hasMessageContainingAll(parts);
    }

    private static final String OK_POOL = POOL_HEADER + "c,n1,a,NVIDIA-L4,23034,4,0,\n";

    @Test
    void nonNumberNamesLineAndColumn() throws IOException {
        assertFails(OK_POOL, WORKLOAD_HEADER + "j1,a,0,10,1,1,,,\nj2,a,soon,10,1,1,,,\n",
                "work.csv:3", "column submit_s", "not an integer: 'soon'");
    }

    @Test
    void missingColumnNamesIt() throws IOException {
        assertFails(OK_POOL, "id,organization,submit_s,duration_s,gpus_per_replica,min_gpu_memory_mib,priority,shared\n",
                "work.csv:1", "column replicas", "missing column");
        assertFails(OK_POOL, WORKLOAD_HEADER + "j1,a,0,10\n", "work.csv:2", "column gpus_per_replica", "missing");
    }

    @Test
    void negativeGpusNamesLineAndColumn() throws IOException {
        assertFails(POOL_HEADER + "c,n1,a,NVIDIA-L4,23034,4,0,\nc,n2,a,NVIDIA-L4,23034,-2,0,\n",
                WORKLOAD_HEADER, "pool.csv:3", "column gpus", "negative: -2");
        assertFails(OK_POOL, WORKLOAD_HEADER + "j1,a,0,10,-1,1,,,\n", "work.csv:2", "column gpus_per_replica",
                "negative");
    }

    @Test
    void unsortedSubmitTimesAreRejected() throws IOException {
        assertFails(OK_POOL, WORKLOAD_HEADER + "j1,a,50,10,1,1,,,\nj2,a,40,10,1,1,,,\n",
                "work.csv:3", "column submit_s", "not sorted");
    }

    @Test
    void histogramPercentiles() {
        Histogram h = new Histogram();
        for (int i = 1; i <= 100; i++) {
            h.add(i);
        }
        assertThat(h.percentile(0.5)).isEqualTo(50);
        assertThat(h.percentile(0.99)).isEqualTo(99);
        h.add(1_000_000);
        assertThat(h.max()).isEqualTo(1_000_000);
        assertThat(h.percentile(1.0)).isBetween(995_000L, 1_000_000L);
    }

    /**
     * Streams a large workload CSV: only waiting and running workloads stay in memory. 200,000 rows by default
     * ({@code -Dsim.largeRows=1000000} for the full million, about 5x longer).
     */
    @Test
    void largeTraceKeepsMemoryBounded() throws IOException {
        int rows = Integer.getInteger("sim.largeRows", 200_000);
        Path pool = write("pool.csv", POOL_HEADER + "c,n1,a,NVIDIA-L4,23034,4,0,\nc,n2,b,NVIDIA-L4,23034,4,0,\n");
        Path work = dir.resolve("big.csv");
        try (BufferedWriter out = Files.newBufferedWriter(work, StandardCharsets.UTF_8)) {
            out.write(WORKLOAD_HEADER);
            for (int i = 0; i < rows; i++) {
                out.write("j" + i + "," + (i % 2 == 0 ? "a" : "b") + "," + i + ",3,1,1,,,\n");
            }
        }
        SimResult r = TraceSimulator.run(TraceSimulator.Options.of(pool, work).withClasses(null).withPolicies("fair"))
                .get(0);
        assertThat(r.finished()).isEqualTo(rows);
        assertThat(r.maxLive()).isLessThanOrEqualTo(10);
    }
}
