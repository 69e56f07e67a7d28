package io.gpupool.inference;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The preStop hook (drain.sh) waits until the engine has no request in flight, within its time budget. */
class DrainHookTest {

    HttpServer metrics;
    final Deque<String> answers = new ArrayDeque<>();
    final AtomicInteger scrapes = new AtomicInteger();
    volatile String last = "";

    @BeforeEach
    void startMetrics() throws IOException {
        metrics = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        metrics.createContext("/metrics", exchange -> {
            scrapes.incrementAndGet();
            String body;
            synchronized (answers) {
                body = answers.isEmpty() ? last : answers.poll();
                last = body;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        metrics.start();
    }

    @AfterEach
    void stopMetrics() {
        metrics.stop(0);
    }

    static String vllm(double running, double waiting) {
        return "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
                + "# TYPE vllm:num_requests_running gauge\n"
                + "vllm:num_requests_running{engine=\"0\",model_name=\"tiny\"} " + running + "\n"
                + "vllm:num_requests_waiting{engine=\"0\",model_name=\"tiny\"} " + waiting + "\n"
                + "vllm:gpu_cache_usage_perc{engine=\"0\",model_name=\"tiny\"} 0.5\n";
    }

    static String llama(int processing, int deferred) {
        return "# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing " + processing
                + "\n# TYPE llamacpp:requests_deferred gauge\nllamacpp:requests_deferred " + deferred
                + "\nllamacpp:prompt_tokens_total 1234\n";
    }

    record Run(int exit, String out, long millis) {
    }

    Run drain(int port, String... args) throws Exception {
        String[] command = new String[args.length + 2];
        command[0] = "sh";
        command[1] = Entrypoint.IMAGE_DIR.resolve("drain.sh").toString();
        System.arraycopy(args, 0, command, 2, args.length);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("GPUPOOL_PORT", String.valueOf(port));
        long start = System.nanoTime();
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    int port() {
        return metrics.getAddress().getPort();
    }

    @Test
    void waitsUntilVllmHasNothingInFlight() throws Exception {
        synchronized (answers) {
            answers.add(vllm(2, 1));
            answers.add(vllm(0, 0));
        }
        Run run = drain(port(), "30", "1");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("no request in flight for 1s");
        assertThat(scrapes.get()).isEqualTo(2); // busy, then quiet
    }

    @Test
    void understandsLlamaCppMetrics() throws Exception {
        synchronized (answers) {
            answers.add(llama(0, 1));
            answers.add(llama(0, 0));
        }
        Run run = drain(port(), "30", "1");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("no request in flight for 1s");
        assertThat(scrapes.get()).isEqualTo(2);
    }

    @Test
    void givesUpAtItsDeadline() throws Exception {
        last = vllm(3, 0);
        Run run = drain(port(), "1", "5");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("requests still in flight after 1s");
        assertThat(run.millis()).isLessThan(5_000);
    }

    @Test
    void returnsAtOnceWhenTheEngineIsNotThere() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Run run = drain(closed, "30", "5");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("engine metrics unavailable");
        assertThat(run.millis()).isLessThan(5_000);
    }
}
