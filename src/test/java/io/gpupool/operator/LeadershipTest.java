package io.gpupool.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class LeadershipTest {

    /**
     * The first question whether this replica leads is answered lazily (the configuration is built late); the lease can
     * be won while that answer is being worked out. The "not yet" must not overwrite the lease's "now you lead": that
     * leader would run no cycle of its own and publish nothing until the next takeover.
     */
    @Test
    void aLeaseWonWhileTheFirstAnswerIsWorkedOutIsNotOverwritten() throws Exception {
        CountDownLatch asking = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        Leadership leadership = new Leadership(() -> {
            asking.countDown();
            try {
                answer.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return true; // elected: waits for the lease
        });
        Thread firstQuestion = new Thread(leadership::leading, "first-question");
        firstQuestion.start();
        assertThat(asking.await(10, TimeUnit.SECONDS)).isTrue();

        Thread leaseWon = new Thread(() -> leadership.callbacks().onStartLeading(), "lease-won");
        leaseWon.start();
        // The lease's callback either waits for the first answer or (were it not guarded) is done before it.
        await().atMost(Duration.ofSeconds(10)).until(
                () -> EnumSet.of(Thread.State.BLOCKED, Thread.State.TERMINATED).contains(leaseWon.getState()));
        answer.countDown();
        firstQuestion.join(10_000);
        leaseWon.join(10_000);

        assertThat(leadership.leading()).as("the replica won the lease").isTrue();
    }
}
