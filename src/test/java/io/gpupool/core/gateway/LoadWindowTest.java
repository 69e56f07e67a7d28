package io.gpupool.core.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.gpupool.core.gateway.dispatch.Decision;
import io.gpupool.core.gateway.dispatch.Grant;
import io.gpupool.core.gateway.dispatch.LoadWindow;
import io.gpupool.core.gateway.dispatch.ModelDispatcher;
import io.gpupool.core.gateway.dispatch.QueueLimits;
import io.gpupool.core.gateway.dispatch.ReplicaSpec;
import io.gpupool.core.gateway.dispatch.Ticket;
import io.gpupool.testing.ManualClock;

/** The load the gateway reports for the autoscaler, and requests held while an autoscaled model has no replica. */
class LoadWindowTest {

    @Test
    void theMeanIsTimeWeightedOverTheWindowAndForgetsWhatIsOlder() {
        LoadWindow w = new LoadWindow(30_000, 0);
        w.set(0, 10);
        assertThat(w.mean(15_000)).isCloseTo(10, within(0.01));
        w.set(15_000, 0);
        assertThat(w.mean(30_000)).isCloseTo(5, within(0.01));
        // 45 s on, the first 15 s at 10 left the window.
        assertThat(w.mean(45_000)).isCloseTo(0, within(0.01));
        w.set(45_000, 4);
        assertThat(w.mean(60_000)).isCloseTo(2, within(0.35));
        // Idle far longer than the window: only the last value counts.
        assertThat(w.mean(10_000_000)).isCloseTo(4, within(0.01));
    }

    @Test
    void manyChangesInOneBucketCostNothingAndAverageRight() {
        LoadWindow w = new LoadWindow(10_000, 0);
        for (int ms = 0; ms < 10_000; ms++) {
            w.set(ms, ms % 2 == 0 ? 3 : 1);
        }
        assertThat(w.mean(10_000)).isCloseTo(2, within(0.01));
    }

    @Test
    void anAutoscaledModelHoldsRequestsAtZeroAndReleasesThemToItsFirstReplica() {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
        List<Grant> granted = new ArrayList<>();
        ModelDispatcher d = new ModelDispatcher(clock, new QueueLimits(100, Duration.ofSeconds(60)), granted::add);
        Ticket t = new Ticket("org", 1, null, 10, null, "first");
        assertThat(d.submit(t)).isInstanceOf(Decision.Rejected.class);
        d.holdAtZero(true);
        assertThat(d.submit(t)).isInstanceOf(Decision.Held.class);
        assertThat(d.load().held()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(10));
        // Held requests count as load too (they are in the queue).
        assertThat(d.load().mean()).isCloseTo(1, within(0.01));
        d.replicas(List.of(new ReplicaSpec("r1", "local", 4, "r1")));
        assertThat(granted).singleElement().satisfies(g -> assertThat(g.ticket()).isSameAs(t));
        assertThat(d.load().held()).isZero();
        // With a replica, waiting is ordinary queuing again.
        for (int i = 0; i < 4; i++) {
            d.submit(new Ticket("org", 1, null, 10, null, i));
        }
        assertThat(d.submit(new Ticket("org", 1, null, 10, null, "late"))).isInstanceOf(Decision.Queued.class);
    }
}
