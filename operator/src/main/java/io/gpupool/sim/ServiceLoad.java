package io.gpupool.sim;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.gpupool.api.v1alpha1.AutoscalingStatus;
import io.gpupool.core.autoscaling.Autoscaler;
import io.gpupool.core.autoscaling.AutoscalingPolicy;
import io.gpupool.core.autoscaling.ModelLoad;
import io.gpupool.core.autoscaling.ScaleDecision;

/**
 * The requests of one autoscaled service in virtual time, and the operator's autoscaler deciding its replicas (the
 * same {@link Autoscaler} as the operator's reconciler). Requests are a fluid: they arrive at the trace's rate, each
 * needs {@code request_s} seconds on a replica that serves {@code target_in_flight} at once; what the serving replicas
 * cannot take waits in a backlog (the gateway's queue). A replica serves once its cold start is over. The load the
 * autoscaler sees is Little's law, in flight = rate × request_s, plus the backlog, as the gateway's window mean of
 * in-flight plus queued; requests waiting while no replica serves are held (scale from zero). As in the gateway, a
 * request is refused when it would wait longer than the queue's bound, or than the cold-start wait.
 */
final class ServiceLoad {

    /** The gateway's defaults: a queued request waits at most this long (429 beyond), a held one this long (503). */
    static final double MAX_QUEUE_WAIT_S = 60;
    static final double MAX_COLD_START_WAIT_S = 180;

    private final Trace.Service service;
    private final long start;
    private final AutoscalingPolicy policy;
    private AutoscalingStatus status;
    private int desired;
    /** When each admitted replica was admitted (it serves coldStart later), oldest first. */
    private final List<Long> admittedAt = new ArrayList<>();
    private double backlog;

    ServiceLoad(Trace.Service service, long start) {
        this.service = service;
        this.start = start;
        this.policy = new AutoscalingPolicy(service.minReplicas(), service.maxReplicas(), service.target(),
                Duration.ofSeconds(service.scaleDownDelay()));
        this.desired = service.minReplicas();
    }

    int desired() {
        return desired;
    }

    /**
     * The autoscaler's decision at {@code t}.
     *
     * @return true when the desired replicas changed (worth an engine cycle)
     */
    boolean decide(long t) {
        double rate = service.rateAt(t - start);
        double load = rate * service.requestSeconds() + backlog;
        int held = serving(t) == 0 && (rate > 0 || backlog > 0) ? (int) Math.max(1, Math.ceil(backlog)) : 0;
        ScaleDecision d = Autoscaler.decide(policy, status, service.minReplicas(), new ModelLoad(load, held, 1),
                Instant.ofEpochSecond(t));
        status = d.status();
        boolean changed = d.desired() != desired;
        desired = d.desired();
        return changed;
    }

    /** The engine admitted {@code replicas} at {@code t}: new ones start their cold start, removed ones go first. */
    int admitted(long t, int replicas) {
        int started = 0;
        while (admittedAt.size() < replicas) {
            admittedAt.add(t);
            started++;
        }
        while (admittedAt.size() > replicas) {
            admittedAt.remove(admittedAt.size() - 1); // the newest go first: they may not even serve yet
        }
        return started;
    }

    private int serving(long t) {
        int n = 0;
        for (long at : admittedAt) {
            if (at + service.coldStart() <= t) {
                n++;
            }
        }
        return n;
    }

    /**
     * The requests of [from, to): arrivals, service by the replicas that serve, the backlog; each second's arrivals
     * recorded with their latency (request_s, plus the wait for the backlog ahead of them, or for a first replica).
     */
    void advance(long from, long to, Histogram latencyMillis, SimResult result) {
        for (long t = from; t < to; t++) {
            double rate = service.rateAt(t - start);
            int serving = serving(t);
            double capacity = serving * service.target() / service.requestSeconds();
            double waitSeconds;
            long requests = Math.round(rate * (t - start + 1)) - Math.round(rate * (t - start));
            if (capacity > 0) {
                backlog = Math.max(0, backlog + rate - capacity);
                // The gateway's queue is bounded in time: what would wait longer is refused (429).
                double most = capacity * MAX_QUEUE_WAIT_S;
                if (backlog > most) {
                    long refused = Math.min(requests, Math.round(backlog - most));
                    result.refusedRequests += refused;
                    requests -= refused;
                    backlog = most;
                }
                waitSeconds = backlog / capacity;
            } else {
                backlog += rate;
                // Held until the first replica serves: the one starting, or one still to be admitted.
                long firstServes = Long.MAX_VALUE;
                for (long at : admittedAt) {
                    firstServes = Math.min(firstServes, at + service.coldStart());
                }
                waitSeconds = firstServes == Long.MAX_VALUE ? service.coldStart() : Math.max(0, firstServes - t);
                if (waitSeconds > MAX_COLD_START_WAIT_S) {
                    // Past the gateway's cold-start wait: 503 with Retry-After.
                    result.refusedRequests += requests;
                    backlog = Math.max(0, backlog - rate);
                    continue;
                }
            }
            if (requests > 0) {
                latencyMillis.add(Math.round((service.requestSeconds() + waitSeconds) * 1000), requests);
                result.requests += requests;
            }
        }
    }
}
