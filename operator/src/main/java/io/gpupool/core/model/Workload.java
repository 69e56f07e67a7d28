package io.gpupool.core.model;

import java.util.Comparator;
import java.util.List;

/**
 * A ModelDeployment as the admission engine sees it: what each replica needs and where replicas run now.
 *
 * @param organization    organization that owns it (from its namespace, never from the object itself)
 * @param gpusPerReplica  GPUs each replica needs on one node
 * @param minMemoryMiB    least memory of each of those GPUs
 * @param allowedClasses  GpuClass allow-list in preference order; empty = any class
 * @param desiredReplicas replicas the spec asks for
 * @param priority        higher goes first within an organization
 * @param shared          a community deployment that draws on the commons first
 * @param arrival         creation order (milliseconds since the epoch); older goes first on ties
 * @param frozen          true while the spec is invalid: keep what runs, place nothing new
 * @param assigned        where its replicas run now
 * @param draining        replicas taken away from it (evicted or scaled down) whose pods are still stopping: they
 *                        hold their GPUs until they are gone, so that no GPU is ever booked twice, but they do not
 *                        count as its replicas
 * @param claimed         replicas it waits to place after a preemption, per node: the previous cycle's
 *                        {@link CycleResult#claims()} for it. The GPUs freed by its preemption go to it, not to whoever
 *                        comes first once they are free. Keep them like {@code draining} (a lost claim never
 *                        double-books a GPU; it can only cost another round of preemption)
 * @param guaranteedReplicas replicas admitted with full rights (within nominal quota first, reclaiming if need be);
 *                        those above it are <em>elastic</em> (an autoscaled ModelDeployment's replicas above
 *                        minReplicas): admitted only as borrowing, on idle GPUs, never preempting anyone, and the
 *                        first to be preempted (docs/fair-share.md §4). Equal to {@code desiredReplicas} when nothing
 *                        is elastic
 * @param requirements    what a node must offer besides GPUs: its owner's consent, a cluster of an allow-list
 * @param youngReplicas   how many of its replicas started less than the pool's minimum run time ago: they are not
 *                        preempted (a safeguard of fairness with memory; 0 when the pool does not remember usage)
 */
public record Workload(WorkloadId id, String organization, int gpusPerReplica, long minMemoryMiB,
        List<String> allowedClasses, int desiredReplicas, int priority, boolean shared, long arrival, boolean frozen,
        List<Assignment> assigned, List<Assignment> draining, List<Assignment> claimed, int guaranteedReplicas,
        Requirements requirements, int youngReplicas) {

    /** Oldest first; ties by namespace and name. Every engine looks at workloads in this order. */
    public static final Comparator<Workload> ARRIVAL_ORDER = Comparator.comparingLong(Workload::arrival)
            .thenComparing(Workload::id);

    public Workload {
        claimed = claimed == null ? List.of() : claimed;
        requirements = requirements == null ? Requirements.NONE : requirements;
    }

    /** A workload whose replicas may all be preempted. */
    public Workload(WorkloadId id, String organization, int gpusPerReplica, long minMemoryMiB,
            List<String> allowedClasses, int desiredReplicas, int priority, boolean shared, long arrival, boolean frozen,
            List<Assignment> assigned, List<Assignment> draining, List<Assignment> claimed, int guaranteedReplicas,
            Requirements requirements) {
        this(id, organization, gpusPerReplica, minMemoryMiB, allowedClasses, desiredReplicas, priority, shared, arrival,
                frozen, assigned, draining, claimed, guaranteedReplicas, requirements, 0);
    }

    /** A workload that needs nothing of a node but GPUs. */
    public Workload(WorkloadId id, String organization, int gpusPerReplica, long minMemoryMiB,
            List<String> allowedClasses, int desiredReplicas, int priority, boolean shared, long arrival, boolean frozen,
            List<Assignment> assigned, List<Assignment> draining, List<Assignment> claimed, int guaranteedReplicas) {
        this(id, organization, gpusPerReplica, minMemoryMiB, allowedClasses, desiredReplicas, priority, shared, arrival,
                frozen, assigned, draining, claimed, guaranteedReplicas, Requirements.NONE);
    }

    /** A workload without elastic replicas, with what it needs of a node besides GPUs. */
    public Workload(WorkloadId id, String organization, int gpusPerReplica, long minMemoryMiB,
            List<String> allowedClasses, int desiredReplicas, int priority, boolean shared, long arrival, boolean frozen,
            List<Assignment> assigned, List<Assignment> draining, List<Assignment> claimed, Requirements requirements) {
        this(id, organization, gpusPerReplica, minMemoryMiB, allowedClasses, desiredReplicas, priority, shared, arrival,
                frozen, assigned, draining, claimed, desiredReplicas, requirements);
    }

    /** A workload without elastic replicas. */
    public Workload(WorkloadId id, String organization, int gpusPerReplica, long minMemoryMiB,
            List<String> allowedClasses, int desiredReplicas, int priority, boolean shared, long arrival, boolean frozen,
            List<Assignment> assigned, List<Assignment> draining, List<Assignment> claimed) {
        this(id, organization, gpusPerReplica, minMemoryMiB, allowedClasses, desiredReplicas, priority, shared, arrival,
                frozen, assigned, draining, claimed, desiredReplicas);
    }

    /** A workload without claims. */
    public Workload(WorkloadId id, String organization, int gpusPerReplica, long minMemoryMiB,
            List<String> allowedClasses, int desiredReplicas, int priority, boolean shared, long arrival, boolean frozen,
            List<Assignment> assigned, List<Assignment> draining) {
        this(id, organization, gpusPerReplica, minMemoryMiB, allowedClasses, desiredReplicas, priority, shared, arrival,
                frozen, assigned, draining, List.of());
    }

    public int assignedReplicas() {
        int n = 0;
        for (Assignment a : assigned) {
            n += a.replicas();
        }
        return n;
    }

    public Workload withAssigned(List<Assignment> newAssigned) {
        return new Workload(id, organization, gpusPerReplica, minMemoryMiB, allowedClasses, desiredReplicas, priority,
                shared, arrival, frozen, List.copyOf(newAssigned), draining, claimed, guaranteedReplicas, requirements,
                youngReplicas);
    }

    /** The same demand with what it holds: assigned replicas, draining ones, claims. */
    public Workload withHoldings(List<Assignment> newAssigned, List<Assignment> newDraining,
            List<Assignment> newClaimed) {
        return new Workload(id, organization, gpusPerReplica, minMemoryMiB, allowedClasses, desiredReplicas, priority,
                shared, arrival, frozen, List.copyOf(newAssigned), List.copyOf(newDraining), newClaimed,
                guaranteedReplicas, requirements, youngReplicas);
    }

    /** The same workload with {@code guaranteed} of its replicas admitted with full rights, the rest elastic. */
    public Workload withGuaranteedReplicas(int guaranteed) {
        return new Workload(id, organization, gpusPerReplica, minMemoryMiB, allowedClasses, desiredReplicas, priority,
                shared, arrival, frozen, assigned, draining, claimed, Math.max(0, guaranteed), requirements,
                youngReplicas);
    }

    /** The same workload with {@code young} of its replicas too young to be preempted. */
    public Workload withYoungReplicas(int young) {
        return new Workload(id, organization, gpusPerReplica, minMemoryMiB, allowedClasses, desiredReplicas, priority,
                shared, arrival, frozen, assigned, draining, claimed, guaranteedReplicas, requirements,
                Math.max(0, young));
    }

    /** Of {@code running} replicas, how many are elastic (above the guaranteed ones). */
    public int elastic(int running) {
        return Math.max(0, running - guaranteedReplicas);
    }

    public boolean allows(String gpuClass) {
        return allowedClasses.isEmpty() || allowedClasses.contains(gpuClass);
    }
}
