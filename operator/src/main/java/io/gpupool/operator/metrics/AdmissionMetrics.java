package io.gpupool.operator.metrics;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.operator.scheduling.PoolScheduler.CycleOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Kueue's admission metrics, for replicas: how long ModelDeployments wait, how many replicas are admitted, evicted and
 * preempted (with a reason), and how long a reclaim takes. Everything is derived by comparing each cycle's outcome with
 * the previous one, so the scheduler only has to report its cycles (PoolScheduler.onCycle).
 *
 * <ul>
 * <li>{@code gpupool_admission_wait_time_seconds{organization}}: from the moment a ModelDeployment wants replicas it does
 * not have (its creation, or the cycle that first saw it short) to the cycle that admits all of them.</li>
 * <li>{@code gpupool_admitted_replicas_total{organization}}: replicas given GPUs.</li>
 * <li>{@code gpupool_evicted_replicas_total{organization, reason}}: replicas taken away: {@code Preempted}, or because
 * their node was {@code NodeGone} or {@code NodeWithdrawn}. Scale-downs are not evictions.</li>
 * <li>{@code gpupool_preempted_replicas_total{preempting_organization, reason}}: replicas preempted for a workload of
 * that organization: {@code Reclamation} (taken back from another organization) or {@code InOrganization}
 * (priority).</li>
 * <li>{@code gpupool_reclaim_duration_seconds{organization}}: the wait of ModelDeployments that had to preempt.</li>
 * </ul>
 */
final class AdmissionMetrics {

    static final Duration[] BUCKETS = {Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
            Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(10),
            Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(2), Duration.ofHours(6)};

    private final MeterRegistry registry;
    private final Clock clock;
    /** Per workload seen in the previous cycle: its organization and replicas per node. */
    private Map<WorkloadId, Seen> previous = Map.of();
    /** Workloads waiting for replicas, since when, and whether they preempted meanwhile. */
    private final Map<WorkloadId, Waiting> waiting = new HashMap<>();

    private record Seen(String organization, Map<NodeKey, Integer> replicas) {
    }

    private static final class Waiting {
        final Instant since;
        boolean reclaimed;

        Waiting(Instant since) {
            this.since = since;
        }
    }

    AdmissionMetrics(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
    }

    void record(CycleOutcome outcome) {
        Instant now = clock.instant();
        Map<NodeKey, NodeState> nodeStates = new HashMap<>();
        for (PoolNode n : outcome.snapshot().nodes()) {
            nodeStates.put(n.key(), n.state());
        }
        Map<WorkloadId, Seen> current = new HashMap<>();
        for (Workload w : outcome.snapshot().workloads()) {
            current.put(w.id(), new Seen(w.organization(), perNode(w)));
        }

        Set<WorkloadId> preemptors = new HashSet<>();
        for (Eviction e : outcome.result().evictions()) {
            preemptors.add(e.preemptor());
            String victimOrg = organization(e.victim(), current);
            String preemptorOrg = organization(e.preemptor(), current);
            if (victimOrg != null) {
                counter("gpupool_evicted_replicas", "organization", victimOrg, "reason", "Preempted").increment(e.replicas());
            }
            if (preemptorOrg != null) {
                String reason = preemptorOrg.equals(victimOrg) ? "InOrganization" : "Reclamation";
                counter("gpupool_preempted_replicas", "preempting_organization", preemptorOrg, "reason", reason)
                        .increment(e.replicas());
            }
        }

        for (Workload w : outcome.snapshot().workloads()) {
            Seen before = previous.get(w.id());
            Map<NodeKey, Integer> now1 = current.get(w.id()).replicas();
            int admitted = 0;
            int lostGone = 0;
            int lostWithdrawn = 0;
            for (Map.Entry<NodeKey, Integer> e : now1.entrySet()) {
                int had = before == null ? 0 : before.replicas().getOrDefault(e.getKey(), 0);
                admitted += Math.max(0, e.getValue() - had);
            }
            if (before != null) {
                for (Map.Entry<NodeKey, Integer> e : before.replicas().entrySet()) {
                    int lost = e.getValue() - now1.getOrDefault(e.getKey(), 0);
                    NodeState state = nodeStates.getOrDefault(e.getKey(), NodeState.GONE);
                    if (lost > 0 && state == NodeState.GONE) {
                        lostGone += lost;
                    } else if (lost > 0 && state == NodeState.WITHDRAWING) {
                        lostWithdrawn += lost;
                    }
                }
            }
            // A workload rebuilt from its status after a restart (frozen, first seen) was admitted before.
            if (admitted > 0 && !(before == null && w.frozen())) {
                counter("gpupool_admitted_replicas", "organization", w.organization()).increment(admitted);
            }
            if (lostGone > 0) {
                counter("gpupool_evicted_replicas", "organization", w.organization(), "reason", "NodeGone")
                        .increment(lostGone);
            }
            if (lostWithdrawn > 0) {
                counter("gpupool_evicted_replicas", "organization", w.organization(), "reason", "NodeWithdrawn")
                        .increment(lostWithdrawn);
            }
            trackWait(w, before == null, preemptors.contains(w.id()), now);
        }
        waiting.keySet().retainAll(current.keySet());
        previous = current;
    }

    /** Starts, ends or keeps the wait of a workload for the replicas it does not have. */
    private void trackWait(Workload w, boolean firstSeen, boolean preempted, Instant now) {
        boolean wanting = !w.frozen() && w.assignedReplicas() < w.desiredReplicas();
        Waiting wait = waiting.get(w.id());
        if (wait == null && (wanting || firstSeen && preempted)) {
            // Seen for the first time: it has waited since it was created.
            Instant since = firstSeen && w.arrival() > 0 && w.arrival() <= now.toEpochMilli()
                    ? Instant.ofEpochMilli(w.arrival()) : now;
            wait = new Waiting(since);
            waiting.put(w.id(), wait);
        }
        if (wait != null && preempted) {
            wait.reclaimed = true;
        }
        if (!wanting && wait != null) {
            waiting.remove(w.id());
            Duration waited = Duration.between(wait.since, now);
            timer("gpupool_admission_wait_time", "Time a ModelDeployment waited until all its replicas were admitted",
                    w.organization()).record(waited);
            if (wait.reclaimed) {
                timer("gpupool_reclaim_duration", "Time a ModelDeployment that preempted others waited until all its "
                        + "replicas were admitted", w.organization()).record(waited);
            }
        }
    }

    /** Removes the series of organizations that are no longer in the pool. */
    void forgetOrganizationsExcept(Set<String> organizations) {
        Set<io.micrometer.core.instrument.Meter> stale = new HashSet<>();
        for (var meter : registry.getMeters()) {
            String name = meter.getId().getName();
            if (!name.startsWith("gpupool_")) {
                continue;
            }
            String org = meter.getId().getTag("organization");
            if (org == null) {
                org = meter.getId().getTag("preempting_organization");
            }
            if (org != null && !organizations.contains(org) && isMine(name)) {
                stale.add(meter);
            }
        }
        stale.forEach(registry::remove);
    }

    private static boolean isMine(String name) {
        return name.equals("gpupool_admission_wait_time") || name.equals("gpupool_reclaim_duration")
                || name.equals("gpupool_admitted_replicas") || name.equals("gpupool_evicted_replicas")
                || name.equals("gpupool_preempted_replicas");
    }

    private Counter counter(String name, String... tags) {
        return Counter.builder(name).description(switch (name) {
            case "gpupool_admitted_replicas" -> "Replicas given GPUs by an admission cycle";
            case "gpupool_evicted_replicas" -> "Replicas taken away: Preempted, or their node NodeGone or NodeWithdrawn";
            default -> "Replicas preempted for a workload of the organization: Reclamation or InOrganization";
        }).tags(tags).register(registry);
    }

    private Timer timer(String name, String description, String organization) {
        return Timer.builder(name).description(description).tag("organization", organization)
                .serviceLevelObjectives(BUCKETS).register(registry);
    }

    private static String organization(WorkloadId id, Map<WorkloadId, Seen> workloads) {
        Seen s = workloads.get(id);
        return s == null ? null : s.organization();
    }

    private static Map<NodeKey, Integer> perNode(Workload w) {
        Map<NodeKey, Integer> m = new HashMap<>();
        for (Assignment a : w.assigned()) {
            m.merge(a.node(), a.replicas(), Integer::sum);
        }
        return m;
    }
}
