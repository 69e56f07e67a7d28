package io.gpupool.operator.scheduling;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.ProvenNode;
import io.gpupool.core.inventory.ContributionProof;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;

/**
 * Builds what one admission cycle sees from the pool's objects: the GpuClasses, the believed GpuNodes with their
 * liveness ({@link NodeLiveness}) and the part of their GPUs that counts ({@link ContributionProof}), the
 * Organizations' quotas and the pool's policy; the ledger's workloads are added last. Today everything is converted
 * again from the informer caches at every cycle: this is the seam where incremental inputs plug in (keep the converted
 * classes, nodes and quotas between cycles and update them from the events that change them).
 */
final class SnapshotBuilder {

    private final NodeLiveness liveness;
    private final Clock clock;
    /** Proofs of contributed nodes' GPUs; restored from the Organizations' status on the first cycle. */
    private ContributionProof proof;
    private int proofDays;

    SnapshotBuilder(NodeLiveness liveness, Clock clock) {
        this.liveness = liveness;
        this.clock = clock;
    }

    /**
     * The pool's side of a snapshot.
     *
     * @param nodes   the GpuNodes as this cycle sees them (states, gone, withdrawing, next expiry, counted GPUs)
     * @param counted what of each node's GPUs counts, and why
     * @param proven  per organization, what its contributed nodes have proven (saved in its status)
     */
    record CycleInputs(List<GpuClassDef> classes, NodeLiveness.Assessment nodes, List<OrgQuota> quotas,
            PoolPolicy policy, Map<NodeKey, ContributionProof.Counted> counted, Map<String, List<ProvenNode>> proven) {

        /** The class of every node (null when none matches): draining replicas are counted in it. */
        Map<NodeKey, String> nodeClasses() {
            Map<NodeKey, String> out = new HashMap<>();
            for (PoolNode n : nodes.nodes()) {
                out.put(n.key(), n.gpuClass());
            }
            return out;
        }

        PoolSnapshot with(List<Workload> workloads) {
            return new PoolSnapshot(classes, nodes.nodes(), quotas, workloads, policy);
        }
    }

    /**
     * @param held the workloads as the ledger holds them before this cycle: their Ready replicas on contributed nodes
     *             prove those nodes' GPUs
     */
    CycleInputs inputs(PoolView view, List<Workload> held) {
        return inputs(view, held, Map.of());
    }

    /** @param usage each organization's decayed net usage (value-weighted GPU-hours), for fairness with memory */
    synchronized CycleInputs inputs(PoolView view, List<Workload> held, Map<String, Double> usage) {
        GpuPool pool = view.pool().orElse(null);
        GpuPoolSpec spec = pool == null ? null : pool.getSpec();
        List<GpuClassDef> classes = PoolInputs.classes(view.gpuClasses());
        NodeLiveness.Assessment seen = liveness.assess(view.gpuNodes(), view.contributedClusters(), classes,
                PoolInputs.heartbeatTimeout(spec), spec);
        Instant now = clock.instant();
        ContributionProof proofs = proof(view, spec);
        proofs.record(now, readyGpus(view.readyReplicas(), held));
        Map<NodeKey, ContributionProof.Counted> counted = proofs.counted(seen.nodes(), view.clusterCeilings(),
                NodeTrust.LOCAL_CLUSTER, now);
        List<PoolNode> nodes = new ArrayList<>(seen.nodes().size());
        Map<String, List<ProvenNode>> proven = new TreeMap<>();
        for (PoolNode n : seen.nodes()) {
            ContributionProof.Counted c = counted.get(n.key());
            nodes.add(c == null ? n : n.withCountedGpus(c.gpus()));
            var peaks = proofs.peaks(n.key());
            if (!peaks.isEmpty() && n.organization() != null) {
                ProvenNode p = new ProvenNode();
                p.cluster = n.key().cluster();
                p.node = n.key().node();
                peaks.forEach((day, gpus) -> p.peaks.add(day + "=" + gpus));
                proven.computeIfAbsent(n.organization(), o -> new ArrayList<>()).add(p);
            }
        }
        NodeLiveness.Assessment assessed = new NodeLiveness.Assessment(List.copyOf(nodes), seen.gone(),
                seen.withdrawing(), seen.nextExpiry());
        List<OrgQuota> quotas = new ArrayList<>();
        for (Organization org : view.organizations()) {
            OrgQuota q = PoolInputs.quota(org);
            Double h = usage.get(q.name());
            quotas.add(h == null ? q : q.withDecayedNetUsage(h));
        }
        return new CycleInputs(classes, assessed, quotas, PoolInputs.policy(spec), counted, proven);
    }

    /** The proofs, created (and restored from the Organizations' status) on the first cycle. */
    private ContributionProof proof(PoolView view, GpuPoolSpec spec) {
        int days = spec == null || spec.fairShare == null || spec.fairShare.contributionProofDays == null ? 7
                : spec.fairShare.contributionProofDays;
        if (proof == null || days != proofDays) {
            ContributionProof fresh = new ContributionProof(days);
            if (proof == null) {
                restore(fresh, view.organizations());
            } else {
                proof.nodes().forEach(n -> fresh.restore(n, proof.peaks(n)));
            }
            proof = fresh;
            proofDays = days;
        }
        return proof;
    }

    private static void restore(ContributionProof proof, List<Organization> organizations) {
        for (Organization org : organizations) {
            if (org.getStatus() == null || org.getStatus().provenNodes == null) {
                continue;
            }
            for (ProvenNode p : org.getStatus().provenNodes) {
                if (p == null || p.cluster == null || p.node == null || p.peaks == null) {
                    continue;
                }
                Map<LocalDate, Integer> peaks = new HashMap<>();
                for (String entry : p.peaks) {
                    int eq = entry == null ? -1 : entry.indexOf('=');
                    try {
                        if (eq > 0) {
                            peaks.put(LocalDate.parse(entry.substring(0, eq)),
                                    Integer.parseInt(entry.substring(eq + 1)));
                        }
                    } catch (DateTimeParseException | NumberFormatException e) {
                        // A malformed entry proves nothing.
                    }
                }
                proof.restore(new NodeKey(p.cluster, p.node), peaks);
            }
        }
    }

    /**
     * Whether Ready replicas of this workload hold more GPUs on one of its contributed nodes now than the node has
     * proven: then its reconcile must run a cycle although its demand was decided, or the proof would wait for the next
     * change of the pool (readiness changes no demand).
     */
    synchronized boolean provesMore(Workload held, PoolView view) {
        if (proof == null || held == null || held.assigned().isEmpty()) {
            return false;
        }
        Map<NodeKey, Integer> ready = readyGpus(Map.of(held.id(), view.readyReplicasOf(held.id())), List.of(held));
        Instant now = clock.instant();
        for (Map.Entry<NodeKey, Integer> e : ready.entrySet()) {
            if (e.getValue() > proof.proven(e.getKey(), now)) {
                return true;
            }
        }
        return false;
    }

    /** GPUs that Ready replicas hold per node: at most the replicas the pool placed there, each with its GPUs. */
    static Map<NodeKey, Integer> readyGpus(Map<WorkloadId, Map<NodeKey, Integer>> ready, List<Workload> held) {
        Map<NodeKey, Integer> out = new HashMap<>();
        for (Workload w : held) {
            Map<NodeKey, Integer> r = ready.get(w.id());
            if (r == null) {
                continue;
            }
            for (Assignment a : w.assigned()) {
                int n = Math.min(a.replicas(), r.getOrDefault(a.node(), 0));
                if (n > 0) {
                    out.merge(a.node(), n * w.gpusPerReplica(), Integer::sum);
                }
            }
        }
        return out;
    }
}
