package io.gpupool.core.autoscaling;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;

import io.gpupool.api.v1alpha1.AutoscalingSpec;
import io.gpupool.api.v1alpha1.AutoscalingStatus;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;

/**
 * The autoscaler's decisions: a golden trace (load over time → replicas, reasons, Events) and the rules one by one.
 * Run with -Dgpupool.golden.update=true to rewrite the expected trace after an intended change.
 */
class AutoscalerTest {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final Path GOLDEN = Path.of("src/test/resources/golden-autoscaling");

    private static ModelLoad load(double load, int held) {
        return new ModelLoad(load, held, 2);
    }

    @Test
    void goldenTraceBurstThenIdle() throws IOException {
        AutoscalingPolicy policy = new AutoscalingPolicy(0, 4, 8, Duration.ofSeconds(60));
        List<String> out = new ArrayList<>();
        out.add("second,load,held,recommended,desired,reason,scaleDownSince,event");
        AutoscalingStatus previous = null;
        for (String line : Files.readAllLines(GOLDEN.resolve("burst-then-idle.csv"))) {
            if (line.startsWith("#") || line.startsWith("second")) {
                continue;
            }
            String[] f = line.split(",");
            long second = Long.parseLong(f[0]);
            ScaleDecision d = Autoscaler.decide(policy, previous, 0, load(Double.parseDouble(f[1]),
                    Integer.parseInt(f[2])), T0.plusSeconds(second));
            AutoscalingStatus s = d.status();
            out.add(String.format(Locale.ROOT, "%d,%s,%s,%d,%d,%s,%s,%s", second, f[1], f[2], s.recommendedReplicas,
                    d.desired(), s.reason, s.scaleDownSince == null ? "" : Duration.between(T0,
                            Instant.parse(s.scaleDownSince)).toSeconds(),
                    d.event() == null ? "" : d.event().reason()));
            previous = s;
        }
        Path expected = GOLDEN.resolve("burst-then-idle.expected.csv");
        String actual = String.join("\n", out) + "\n";
        if (Boolean.getBoolean("gpupool.golden.update")) {
            Files.writeString(expected, actual);
        }
        assertThat(actual).isEqualTo(Files.readString(expected));
    }

    @Test
    void desiredIsTheLoadOverTheTargetRoundedUpWithinTheBounds() {
        AutoscalingPolicy policy = new AutoscalingPolicy(1, 5, 4, Duration.ZERO);
        assertThat(Autoscaler.decide(policy, null, 1, load(0, 0), T0).desired()).isEqualTo(1);
        assertThat(Autoscaler.decide(policy, null, 1, load(4, 0), T0).desired()).isEqualTo(1);
        assertThat(Autoscaler.decide(policy, null, 1, load(4.01, 0), T0).desired()).isEqualTo(2);
        assertThat(Autoscaler.decide(policy, null, 1, load(17, 0), T0).desired()).isEqualTo(5);
        assertThat(Autoscaler.decide(policy, null, 1, load(100, 0), T0).desired()).isEqualTo(5);
    }

    @Test
    void aRequestHeldAtZeroAsksForAReplicaAtOnceAndSaysSoInAnEvent() {
        AutoscalingPolicy policy = new AutoscalingPolicy(0, 3, 8, Duration.ofMinutes(5));
        ScaleDecision idle = Autoscaler.decide(policy, null, 0, load(0, 0), T0);
        assertThat(idle.desired()).isZero();
        assertThat(idle.event()).isNull();
        ScaleDecision cold = Autoscaler.decide(policy, idle.status(), 0, load(0, 1), T0.plusSeconds(1));
        assertThat(cold.desired()).isEqualTo(1);
        assertThat(cold.status().reason).isEqualTo(Autoscaler.SCALED_UP);
        assertThat(cold.status().lastScaleTime).isEqualTo(T0.plusSeconds(1).toString());
        assertThat(cold.event().reason()).isEqualTo(Autoscaler.SCALED_UP);
        assertThat(cold.event().message()).contains("from 0 to 1", "1 request(s) held for a first replica");
    }

    @Test
    void scaleDownWaitsForTheDelayThenGoesToTheMostAskedForMeanwhile() {
        AutoscalingPolicy policy = new AutoscalingPolicy(0, 10, 1, Duration.ofSeconds(100));
        AutoscalingStatus s = Autoscaler.decide(policy, null, 8, load(8, 0), T0).status();
        ScaleDecision d = Autoscaler.decide(policy, s, 8, load(2, 0), T0.plusSeconds(10));
        assertThat(d.desired()).isEqualTo(8);
        assertThat(d.status().reason).isEqualTo(Autoscaler.SCALE_DOWN_DELAYED);
        assertThat(d.lookAgain()).isEqualTo(T0.plusSeconds(110));
        d = Autoscaler.decide(policy, d.status(), 8, load(5, 0), T0.plusSeconds(50));
        assertThat(d.desired()).isEqualTo(8);
        assertThat(d.status().scaleDownTo).isEqualTo(5);
        d = Autoscaler.decide(policy, d.status(), 8, load(1, 0), T0.plusSeconds(110));
        assertThat(d.desired()).isEqualTo(5);
        assertThat(d.event().reason()).isEqualTo(Autoscaler.SCALED_DOWN);
        // The load asks for 1: that waits a delay of its own, from now.
        assertThat(d.status().scaleDownSince).isEqualTo(T0.plusSeconds(110).toString());
        assertThat(d.lookAgain()).isEqualTo(T0.plusSeconds(210));
    }

    @Test
    void aLoadBackAtTheCurrentReplicasCancelsAPendingScaleDown() {
        AutoscalingPolicy policy = new AutoscalingPolicy(0, 10, 1, Duration.ofSeconds(100));
        AutoscalingStatus s = Autoscaler.decide(policy, null, 4, load(4, 0), T0).status();
        s = Autoscaler.decide(policy, s, 4, load(1, 0), T0.plusSeconds(10)).status();
        assertThat(s.scaleDownSince).isNotNull();
        s = Autoscaler.decide(policy, s, 4, load(4, 0), T0.plusSeconds(20)).status();
        assertThat(s.scaleDownSince).isNull();
        ScaleDecision d = Autoscaler.decide(policy, s, 4, load(1, 0), T0.plusSeconds(115));
        assertThat(d.desired()).isEqualTo(4);
        assertThat(d.status().reason).isEqualTo(Autoscaler.SCALE_DOWN_DELAYED);
    }

    @Test
    void withoutAReportReplicasStayWithinTheBounds() {
        AutoscalingPolicy policy = new AutoscalingPolicy(2, 4, 1, Duration.ZERO);
        ScaleDecision d = Autoscaler.decide(policy, null, 3, ModelLoad.NONE, T0);
        assertThat(d.desired()).isEqualTo(3);
        assertThat(d.status().reason).isEqualTo(Autoscaler.NO_LOAD_REPORT);
        d = Autoscaler.decide(policy, null, 0, ModelLoad.NONE, T0);
        assertThat(d.desired()).isEqualTo(2);
    }

    @Test
    void changedBoundsApplyAtOnce() {
        AutoscalingStatus s = Autoscaler.decide(new AutoscalingPolicy(0, 10, 1, Duration.ofHours(1)), null, 0,
                load(8, 0), T0).status();
        ScaleDecision d = Autoscaler.decide(new AutoscalingPolicy(0, 3, 1, Duration.ofHours(1)), s, 0, load(8, 0),
                T0.plusSeconds(1));
        assertThat(d.desired()).isEqualTo(3);
        assertThat(d.event().reason()).isEqualTo(Autoscaler.SCALED_DOWN);
        d = Autoscaler.decide(new AutoscalingPolicy(5, 10, 1, Duration.ofHours(1)), d.status(), 0, load(0, 0),
                T0.plusSeconds(2));
        assertThat(d.desired()).isEqualTo(5);
    }

    @Test
    void policyDefaultsFollowTheEngine() {
        ModelDeploymentSpec spec = new ModelDeploymentSpec();
        spec.autoscaling = new AutoscalingSpec();
        spec.autoscaling.maxReplicas = 3;
        assertThat(AutoscalingPolicy.of(spec)).isEqualTo(new AutoscalingPolicy(0, 3, 64, Duration.ofSeconds(300)));
        spec.engine = "llamacpp";
        assertThat(AutoscalingPolicy.of(spec).target()).isEqualTo(4);
        spec.autoscaling.targetInFlightPerReplica = 10;
        assertThat(AutoscalingPolicy.of(spec).target()).isEqualTo(10);
        spec.autoscaling.minReplicas = 5;
        assertThat(AutoscalingPolicy.of(spec)).as("min above max: invalid, the validator says so").isNull();
        spec.autoscaling = null;
        assertThat(AutoscalingPolicy.of(spec)).isNull();
    }
}
