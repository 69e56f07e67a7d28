package io.gpupool.sim;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** The metrics of one policy on one trace, aggregated incrementally. */
public final class SimResult {

    final Policy policy;
    long submitted;
    long finished;
    long unfinished;
    long cycles;
    long preemptedReplicas;
    /** Replicas that had to start again: evicted, or on a node that left. */
    long restartedReplicas;
    /** GPU-seconds of work evicted replicas had done since their workload last started running. */
    double lostGpuSeconds;
    /** Received against entitled, at every instant of contention. */
    final FairnessMeter fairness = new FairnessMeter();
    long start = -1;
    long maxLive;
    long end;
    double availableGpuSeconds;
    double allocatedGpuSeconds;
    /** GPU-seconds of workloads whose replicas were all admitted (running), a part of the allocated GPU-seconds. */
    double busyGpuSeconds;
    /** Per organization: GPU-seconds allocated, each GPU weighted by its GpuClass value. */
    final Map<String, Double> orgValueGpuSeconds = new TreeMap<>();
    /** Organizations that submitted work. */
    final Set<String> submitters = new TreeSet<>();
    /** Submit to all replicas admitted (first time), seconds. */
    final Histogram queueDelay = new Histogram();
    /** The same, for workloads that had to preempt to reclaim their quota. */
    final Histogram reclaimDelay = new Histogram();

    /** Autoscaled services (request-rate columns): services submitted, requests, replicas started (cold starts). */
    long services;
    long requests;
    long coldStarts;
    /** Requests the gateway would refuse: past its queue wait (429) or its cold-start wait (503). */
    long refusedRequests;
    /** GPU-seconds held by autoscaled services, and what they would have held at maxReplicas throughout. */
    double serviceGpuSeconds;
    double serviceMaxGpuSeconds;
    /** Latency of the services' requests, milliseconds (fluid estimate: service time plus the wait ahead). */
    final Histogram requestLatency = new Histogram();

    SimResult(Policy policy) {
        this.policy = policy;
    }

    public String policy() {
        return policy.key;
    }

    public double utilization() {
        return availableGpuSeconds == 0 ? 0 : allocatedGpuSeconds / availableGpuSeconds;
    }

    /** GPU-seconds of fully admitted workloads / available GPU-seconds. */
    public double busy() {
        return availableGpuSeconds == 0 ? 0 : busyGpuSeconds / availableGpuSeconds;
    }

    /**
     * Raw equality, not fairness: Jain's index over the organizations that submitted work of x_i = time-averaged
     * value-weighted GPUs of org i divided by its quota weight (1 for every organization in the simulator);
     * J = (Σx)² / (n·Σx²). It differs between organizations whatever the policy when their demands differ. NaN when
     * nobody got anything.
     */
    public double jain() {
        double sum = 0;
        double sq = 0;
        int n = 0;
        for (String o : submitters) {
            double x = orgValueGpuSeconds.getOrDefault(o, 0.0) / Math.max(1, end) / 1.0;
            sum += x;
            sq += x * x;
            n++;
        }
        return n == 0 || sq == 0 ? Double.NaN : sum * sum / (n * sq);
    }

    /** Fairness: time-averaged Jain's index of received / entitled over contended time ({@link FairnessMeter}). */
    public double fairness() {
        return fairness.jain();
    }

    /** The worst organization's average fraction of its entitlement, over contended time. */
    public double worstFraction() {
        return fairness.worst();
    }

    public String worstOrganization() {
        return fairness.worstOrganization();
    }

    /** Each organization's average fraction of its entitlement over contended time. */
    public Map<String, Double> fractions() {
        return fairness.fractions();
    }

    /** GPU-hours of work lost to preemption. */
    public double lostGpuHours() {
        return lostGpuSeconds / 3600;
    }

    /** Replica restarts (evicted, or on a node that left) per hour of the trace. */
    public double restartsPerHour() {
        long span = end - Math.max(0, start);
        return span <= 0 ? 0 : restartedReplicas * 3600.0 / span;
    }

    public long preemptedReplicas() {
        return preemptedReplicas;
    }

    public long maxLive() {
        return maxLive;
    }

    public long finished() {
        return finished;
    }

    public long unfinished() {
        return unfinished;
    }

    public long delayP50() {
        return queueDelay.percentile(0.5);
    }

    public long delayP99() {
        return queueDelay.percentile(0.99);
    }

    public long reclaimP50() {
        return reclaimDelay.percentile(0.5);
    }

    public long reclaimMax() {
        return reclaimDelay.max();
    }

    public long services() {
        return services;
    }

    public long requests() {
        return requests;
    }

    public long refusedRequests() {
        return refusedRequests;
    }

    public long coldStarts() {
        return coldStarts;
    }

    public double serviceGpuHours() {
        return serviceGpuSeconds / 3600;
    }

    public double serviceGpuHoursAtMax() {
        return serviceMaxGpuSeconds / 3600;
    }

    public long requestLatencyP50() {
        return requestLatency.percentile(0.5);
    }

    public long requestLatencyP99() {
        return requestLatency.percentile(0.99);
    }

    public long reclaimCount() {
        return reclaimDelay.count();
    }
}
