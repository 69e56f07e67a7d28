package io.gpupool.core.inventory;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import io.gpupool.api.v1alpha1.ClassGpus;
import io.gpupool.api.v1alpha1.FairSharePolicy;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuNodeSpec;
import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.NodeConsent;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.Quota;
import io.gpupool.core.classes.GpuClassMatcher;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.Requirements;

/** Turns the pool's custom resources into the admission engine's plain model. */
public final class PoolInputs {

    private PoolInputs() {
    }

    public static List<GpuClassDef> classes(List<GpuClass> classes) {
        List<GpuClassDef> out = new ArrayList<>();
        for (GpuClass c : classes) {
            var spec = c.getSpec();
            if (spec == null) {
                continue;
            }
            List<String> products = spec.match == null || spec.match.products == null ? List.of() : spec.match.products;
            long minMemory = spec.match == null || spec.match.minMemoryMiB == null ? 0 : spec.match.minMemoryMiB;
            out.add(new GpuClassDef(c.getMetadata().getName(), List.copyOf(products), minMemory,
                    spec.value == null ? 1.0 : spec.value));
        }
        return out;
    }

    /**
     * The engine's view of a GpuNode.
     *
     * @param lastHeartbeat when its agent last reported, or null for nodes of the pool's own cluster (the operator
     *                      itself watches those)
     * @param notReadySince since when the pool has seen the node not ready, or null while it is ready
     * @param now           the current time
     * @param timeout       heartbeat timeout: past it the node counts as gone, and so does a node not ready for as long
     */
    public static PoolNode node(GpuNode n, List<GpuClassDef> classes, Instant lastHeartbeat, Instant notReadySince,
            Instant now, Duration timeout) {
        return node(n, classes, null, lastHeartbeat, notReadySince, now, timeout);
    }

    /**
     * The engine's view of a GpuNode, with what its owner consents to.
     *
     * @param pool the pool's policy: it consents for the nodes of the pool's own cluster (GpuPool spec.localNodes);
     *             a contributed node's agent reports its chart's policy in the GpuNode (spec.consent)
     */
    public static PoolNode node(GpuNode n, List<GpuClassDef> classes, GpuPoolSpec pool, Instant lastHeartbeat,
            Instant notReadySince, Instant now, Duration timeout) {
        var spec = n.getSpec();
        String gpuClass = GpuClassMatcher.classify(spec.gpu.product, value(spec.gpu.memoryMiB), classes);
        NodeConsent consent = NodeTrust.LOCAL_CLUSTER.equals(spec.cluster) ? (pool == null ? null : pool.localNodes)
                : spec.consent;
        return new PoolNode(nodeKey(n), spec.organization, gpuClass, value(spec.gpu.memoryMiB),
                spec.gpu.count == null ? 0 : spec.gpu.count, state(spec, lastHeartbeat, notReadySince, now, timeout),
                consents(consent));
    }

    /** What a NodeConsent allows, as the engine's set. */
    public static Set<Requirements.Consent> consents(NodeConsent consent) {
        Set<Requirements.Consent> out = EnumSet.noneOf(Requirements.Consent.class);
        if (consent != null && Boolean.TRUE.equals(consent.remoteCode)) {
            out.add(Requirements.Consent.REMOTE_CODE);
        }
        if (consent != null && Boolean.TRUE.equals(consent.unsafeWeights)) {
            out.add(Requirements.Consent.UNSAFE_WEIGHTS);
        }
        return out;
    }

    /**
     * Gone when silent or not ready past the timeout; withdrawing when its contributor cordoned it or is taking it out
     * of the pool (a cordon is how an owner takes a machine back, so its replicas move rather than wait for a drain);
     * not ready for a while before that (a kubelet restart should not move replicas); otherwise schedulable.
     */
    static NodeState state(GpuNodeSpec spec, Instant lastHeartbeat, Instant notReadySince, Instant now,
            Duration timeout) {
        boolean notReady = Boolean.FALSE.equals(spec.nodeReady);
        if ((lastHeartbeat != null && lastHeartbeat.plus(timeout).isBefore(now))
                || (notReady && notReadySince != null && notReadySince.plus(timeout).isBefore(now))) {
            return NodeState.GONE;
        }
        if (Boolean.TRUE.equals(spec.withdrawn) || Boolean.TRUE.equals(spec.unschedulable)) {
            return NodeState.WITHDRAWING;
        }
        return notReady ? NodeState.NOT_READY : NodeState.SCHEDULABLE;
    }

    public static NodeKey nodeKey(GpuNode n) {
        return new NodeKey(n.getSpec().cluster, n.getSpec().nodeName);
    }

    public static Instant parseTime(String rfc3339) {
        if (rfc3339 == null) {
            return null;
        }
        try {
            return Instant.parse(rfc3339);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    public static OrgQuota quota(Organization org) {
        Quota q = org.getSpec() == null || org.getSpec().quota == null ? new Quota() : org.getSpec().quota;
        return new OrgQuota(org.getMetadata().getName(), q.weight == null ? 1.0 : q.weight, perClass(q.nominal),
                perClass(q.borrowingLimit), perClass(q.lendingLimit));
    }

    public static PoolPolicy policy(GpuPoolSpec pool) {
        if (pool == null) {
            return PoolPolicy.DEFAULT;
        }
        FairSharePolicy fs = pool.fairShare == null ? new FairSharePolicy() : pool.fairShare;
        boolean reclaim = pool.preemption == null || !Boolean.FALSE.equals(pool.preemption.reclaim);
        return new PoolPolicy(!FairSharePolicy.STATIC.equals(fs.mode),
                fs.commonsReservePercent == null ? 10 : fs.commonsReservePercent, reclaim, usageHalfLifeHours(pool));
    }

    /**
     * The usage half-life in force, in hours: 0 when fairness with memory is off, never less than
     * {@link FairSharePolicy#MIN_USAGE_HALF_LIFE_HOURS} otherwise (what the schema could not refuse is raised).
     */
    public static double usageHalfLifeHours(GpuPoolSpec pool) {
        Double h = pool == null || pool.fairShare == null ? null : pool.fairShare.usageHalfLifeHours;
        return h == null || h.isNaN() || h <= 0 ? 0 : Math.max(FairSharePolicy.MIN_USAGE_HALF_LIFE_HOURS, h);
    }

    /** How long a replica runs before it may be preempted: 0 unless the pool remembers usage. */
    public static Duration minimumRun(GpuPoolSpec pool) {
        if (usageHalfLifeHours(pool) <= 0) {
            return Duration.ZERO;
        }
        Integer s = pool.preemption == null ? null : pool.preemption.minimumRunSeconds;
        return Duration.ofSeconds(s == null ? 600 : Math.max(0, s));
    }

    public static Duration heartbeatTimeout(GpuPoolSpec pool) {
        return Duration.ofSeconds(pool == null || pool.heartbeatTimeoutSeconds == null ? 120 : pool.heartbeatTimeoutSeconds);
    }

    /** The most GPUs a node may claim before the pool stops believing it ({@link NodeTrust}). */
    public static int maxGpusPerNode(GpuPoolSpec pool) {
        return pool == null || pool.maxGpusPerNode == null ? NodeTrust.DEFAULT_MAX_GPUS_PER_NODE : pool.maxGpusPerNode;
    }

    /** How long replicas keep serving on a node its contributor takes back, while their replacements start. */
    public static Duration withdrawalHandover(GpuPoolSpec pool) {
        return Duration.ofSeconds(pool == null || pool.withdrawalHandoverSeconds == null ? 300
                : pool.withdrawalHandoverSeconds);
    }

    private static Map<String, Integer> perClass(List<ClassGpus> list) {
        Map<String, Integer> out = new HashMap<>();
        if (list != null) {
            for (ClassGpus c : list) {
                if (c != null && c.gpuClass != null && c.gpus != null) {
                    out.merge(c.gpuClass, c.gpus, Integer::sum);
                }
            }
        }
        return out;
    }

    private static long value(Long l) {
        return l == null ? 0 : l;
    }
}
