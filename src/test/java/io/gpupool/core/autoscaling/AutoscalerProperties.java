package io.gpupool.core.autoscaling;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.gpupool.api.v1alpha1.AutoscalingStatus;
import io.gpupool.core.inventory.PoolInputs;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The autoscaler's rules on random load sequences. */
class AutoscalerProperties {

    record Step(int afterSeconds, double load, int held) {
    }

    @Provide
    Arbitrary<List<Step>> loads() {
        return Combinators.combine(Arbitraries.integers().between(0, 120),
                Arbitraries.doubles().between(0, 200).ofScale(2), Arbitraries.integers().between(0, 3))
                .as(Step::new).list().ofMinSize(1).ofMaxSize(60);
    }

    @Provide
    Arbitrary<AutoscalingPolicy> policies() {
        return Combinators.combine(Arbitraries.integers().between(0, 4), Arbitraries.integers().between(1, 12),
                Arbitraries.integers().between(1, 64), Arbitraries.integers().between(0, 600))
                .as((min, extra, target, delay) -> new AutoscalingPolicy(min, Math.max(1, min) + extra - 1, target,
                        Duration.ofSeconds(delay)));
    }

    @Property(tries = 300)
    void desiredStaysWithinBoundsCoversTheLoadAndOnlyFallsAfterTheDelay(@ForAll("policies") AutoscalingPolicy policy,
            @ForAll("loads") List<Step> steps) {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        AutoscalingStatus previous = null;
        int desired = 0;
        // When the load last asked for at least each number of replicas.
        Instant[] lastAskedAtLeast = new Instant[policy.maxReplicas() + 2];
        for (Step step : steps) {
            now = now.plusSeconds(step.afterSeconds());
            ScaleDecision d = Autoscaler.decide(policy, previous, 0, new ModelLoad(step.load(), step.held(), 1), now);
            int recommended = policy.bounded(Autoscaler.replicasFor(Math.max(step.load(), step.held()),
                    policy.target()));
            for (int n = 0; n <= recommended; n++) {
                lastAskedAtLeast[n] = now;
            }
            assertThat(d.desired()).isBetween(policy.minReplicas(), policy.maxReplicas());
            // Never fewer replicas than the load needs now (scaling up is immediate).
            assertThat(d.desired()).isGreaterThanOrEqualTo(recommended);
            if (d.desired() < desired) {
                // A scale-down: nothing asked for more than the new count during the whole delay before it.
                Instant asked = lastAskedAtLeast[d.desired() + 1];
                assertThat(asked == null || !asked.isAfter(now.minus(policy.scaleDownDelay()))).as(
                        "scaled down to %d at %s although %d were asked for at %s", d.desired(), now, d.desired() + 1,
                        asked).isTrue();
                assertThat(d.event().reason()).isEqualTo(Autoscaler.SCALED_DOWN);
            }
            assertThat(d.event() != null).isEqualTo(d.desired() != desired && previous != null
                    || previous == null && d.desired() != 0);
            if (d.status().scaleDownSince != null) {
                assertThat(d.lookAgain()).isEqualTo(PoolInputs.parseTime(d.status().scaleDownSince)
                        .plus(policy.scaleDownDelay()));
            }
            desired = d.desired();
            previous = d.status();
        }
    }
}
