package io.gpupool.bench.apiserver;

import java.util.ArrayList;
import java.util.List;

/**
 * The shape of Kueue's scheduler baseline mapped onto a pool: Kueue's 5 cohorts × 6 ClusterQueues become 5 groups ×
 * 6 organizations. Each group is one GpuClass: its 6 organizations contribute GPU nodes of that class (Nodes of the
 * pool's own cluster, labelled with the organization) and ask for that class only, so a cohort's queues borrow from
 * each other (idle GPUs of the same class) and never from another cohort, as in Kueue.
 *
 * @param groups        cohorts (GpuClasses); at most {@link #GROUPS}.length
 * @param orgsPerGroup  queues per cohort (organizations)
 * @param modelDeployments ModelDeployments in all, spread round-robin over the organizations
 * @param replicasPerMd replicas of each ModelDeployment (1 GPU each)
 * @param capacity      GPUs contributed / GPUs asked for, per organization (1.0 = everything fits exactly)
 * @param gpusPerNode   GPUs of each node
 */
public record PoolShape(int groups, int orgsPerGroup, int modelDeployments, int replicasPerMd, double capacity,
        int gpusPerNode) {

    /** One group: the GpuClass (from examples/01-gpuclasses.yaml) and the GFD product and memory of its nodes. */
    public record Group(String gpuClass, String product, long memoryMiB) {
    }

    static final Group[] GROUPS = {
            new Group("h100-80g", "NVIDIA-H100-80GB-HBM3", 81559),
            new Group("a100-80g", "NVIDIA-A100-SXM4-80GB", 81920),
            new Group("l4-24g", "NVIDIA-L4", 23034),
            new Group("rtx-24g", "NVIDIA-GeForce-RTX-4090", 24564),
            new Group("t4-16g", "Tesla-T4", 15360) };

    public PoolShape {
        if (groups < 1 || groups > GROUPS.length) {
            throw new IllegalArgumentException("groups must be 1.." + GROUPS.length);
        }
        if (orgsPerGroup < 1 || modelDeployments < 0 || replicasPerMd < 1 || capacity <= 0 || gpusPerNode < 1) {
            throw new IllegalArgumentException("invalid pool shape " + groupsDescription());
        }
    }

    private String groupsDescription() {
        return groups + " groups × " + orgsPerGroup + " organizations";
    }

    public int organizations() {
        return groups * orgsPerGroup;
    }

    public String organization(int index) {
        return String.format("org-g%d-%d", index / orgsPerGroup, index % orgsPerGroup);
    }

    /** The namespace of an organization's members (one each). */
    public String namespace(int orgIndex) {
        return organization(orgIndex);
    }

    public Group group(int orgIndex) {
        return GROUPS[orgIndex / orgsPerGroup];
    }

    /** ModelDeployment i belongs to organization i mod organizations(): arrivals interleave the organizations. */
    public int orgOf(int md) {
        return md % organizations();
    }

    public String mdName(int md) {
        return String.format("md-%06d", md);
    }

    /** Replicas an organization asks for. */
    public int replicasAskedBy(int orgIndex) {
        int mds = modelDeployments / organizations() + (orgIndex < modelDeployments % organizations() ? 1 : 0);
        return mds * replicasPerMd;
    }

    /** Nodes an organization contributes: enough for {@code capacity} × what it asks for (rounded up to whole nodes). */
    public int nodesOf(int orgIndex) {
        return (int) Math.ceil(replicasAskedBy(orgIndex) * capacity / gpusPerNode);
    }

    public List<String> nodeNames(int orgIndex) {
        List<String> names = new ArrayList<>();
        for (int n = 0; n < nodesOf(orgIndex); n++) {
            names.add(String.format("%s-n%04d", organization(orgIndex), n));
        }
        return names;
    }

    public int totalReplicas() {
        return modelDeployments * replicasPerMd;
    }

    public int totalNodes() {
        int n = 0;
        for (int o = 0; o < organizations(); o++) {
            n += nodesOf(o);
        }
        return n;
    }

    public int totalGpus() {
        return totalNodes() * gpusPerNode;
    }

    /** GPUs of one class (group). */
    public int gpusOfGroup(int group) {
        int n = 0;
        for (int o = group * orgsPerGroup; o < (group + 1) * orgsPerGroup; o++) {
            n += nodesOf(o);
        }
        return n * gpusPerNode;
    }

    public String describe() {
        return String.format("%d ModelDeployments × %d replica(s) = %d replicas of 1 GPU, %s (%d organizations), "
                + "%d nodes × %d GPUs = %d GPUs (capacity %.0f %% of demand per organization)", modelDeployments,
                replicasPerMd, totalReplicas(), groupsDescription(), organizations(), totalNodes(), gpusPerNode,
                totalGpus(), capacity * 100);
    }
}
