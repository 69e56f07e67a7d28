package io.gpupool.core.fairshare;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;

/**
 * The quotas of one cycle, per organization and GpuClass, derived from a snapshot: capacity, contributions, nominal
 * quotas, limits, the commons and what can be lent. Organizations and classes are numbered so that the admission
 * engine can keep its counters in arrays.
 *
 * <p>
 * Rules (docs/fair-share.md has worked examples):
 * <ul>
 * <li>capacity of a class: GPUs of its SCHEDULABLE nodes (cordoned and gone nodes do not count);</li>
 * <li>contributed: an organization's verified share of that capacity ({@code PoolNode.countedGpus} of its SCHEDULABLE
 * nodes of the class); unverified GPUs are capacity that no quota covers;</li>
 * <li>nominal: {@code OrgQuota.nominal} plus, in contribution-weighted mode, {@code floor(contributed * (100 -
 * reserve) / 100)}: each contributor's part is rounded down, so the commons gets at least the reserve and the
 * contributed parts never add up to more than the capacity;</li>
 * <li>commons: {@code max(0, capacity - sum of nominal)}: the reserve, unclaimed GPUs (nodes of organizations without
 * quota) and what nobody's quota covers;</li>
 * <li>lendable (the denominator of the dominant share, as in Kueue): the commons plus every organization's nominal
 * capped by its lending limit.</li>
 * </ul>
 * An organization named by a node or a workload but absent from {@code PoolSnapshot.organizations} is treated as
 * {@link OrgQuota#unlimited(String)}: weight 1, no spec quota, no limits (its contributions still count).
 */
public final class QuotaBook {

    /** Marks an absent borrowing or lending limit. */
    public static final int UNLIMITED = QuotaRules.UNLIMITED;

    private final List<String> classNames;
    private final Map<String, Integer> classIndex;
    private final double[] value;
    private final List<OrgQuota> orgs;
    private final Map<String, Integer> orgIndex;
    private final int[] capacity;
    private final int[][] contributed;
    private final int[][] nominal;
    private final int[][] borrowingLimit;
    private final int[][] lendingLimit;
    private final int[] nominalSum;
    private final int[] commons;
    private final int[] lendable;
    private final PoolPolicy policy;

    private QuotaBook(PoolSnapshot snapshot) {
        policy = snapshot.policy() == null ? PoolPolicy.DEFAULT : snapshot.policy();
        classNames = new ArrayList<>();
        classIndex = new HashMap<>();
        List<Double> values = new ArrayList<>();
        for (GpuClassDef c : snapshot.classes()) {
            if (classIndex.putIfAbsent(c.name(), classNames.size()) == null) {
                classNames.add(c.name());
                values.add(Math.max(0.0, c.value()));
            }
        }
        for (PoolNode n : snapshot.nodes()) {
            if (n.gpuClass() != null && classIndex.putIfAbsent(n.gpuClass(), classNames.size()) == null) {
                classNames.add(n.gpuClass());
                values.add(1.0);
            }
        }
        value = values.stream().mapToDouble(Double::doubleValue).toArray();

        orgs = new ArrayList<>();
        orgIndex = new HashMap<>();
        for (OrgQuota q : snapshot.organizations()) {
            if (orgIndex.putIfAbsent(q.name(), orgs.size()) == null) {
                orgs.add(q);
            }
        }
        TreeSet<String> unknown = new TreeSet<>();
        for (PoolNode n : snapshot.nodes()) {
            if (n.organization() != null && !orgIndex.containsKey(n.organization())) {
                unknown.add(n.organization());
            }
        }
        for (Workload w : snapshot.workloads()) {
            if (!orgIndex.containsKey(orgKey(w.organization()))) {
                unknown.add(orgKey(w.organization()));
            }
        }
        for (String name : unknown) {
            orgIndex.put(name, orgs.size());
            orgs.add(OrgQuota.unlimited(name));
        }

        int nc = classNames.size();
        int no = orgs.size();
        capacity = new int[nc];
        contributed = new int[no][nc];
        for (PoolNode n : snapshot.nodes()) {
            if (n.gpuClass() == null || n.state() != NodeState.SCHEDULABLE || n.gpus() <= 0) {
                continue;
            }
            int c = classIndex.get(n.gpuClass());
            capacity[c] += n.gpus();
            if (n.organization() != null) {
                // Only verified GPUs earn quota; the others are placed on like the commons.
                contributed[orgIndex.get(n.organization())][c] += Math.max(0, Math.min(n.gpus(), n.countedGpus()));
            }
        }
        int reserve = Math.max(0, Math.min(100, policy.commonsReservePercent()));
        nominal = new int[no][nc];
        borrowingLimit = new int[no][nc];
        lendingLimit = new int[no][nc];
        nominalSum = new int[nc];
        for (int o = 0; o < no; o++) {
            OrgQuota q = orgs.get(o);
            for (int c = 0; c < nc; c++) {
                String cls = classNames.get(c);
                int n = Math.max(0, get(q.nominal(), cls, 0));
                if (policy.contributionWeighted()) {
                    n += contributorShare(contributed[o][c], reserve);
                }
                nominal[o][c] = n;
                nominalSum[c] += n;
                borrowingLimit[o][c] = limit(q.borrowingLimit(), cls);
                lendingLimit[o][c] = limit(q.lendingLimit(), cls);
            }
        }
        commons = new int[nc];
        lendable = new int[nc];
        for (int c = 0; c < nc; c++) {
            commons[c] = Math.max(0, capacity[c] - nominalSum[c]);
            long l = commons[c];
            for (int o = 0; o < no; o++) {
                l += lendingLimit[o][c] == UNLIMITED ? nominal[o][c] : Math.min(nominal[o][c], lendingLimit[o][c]);
            }
            lendable[c] = (int) Math.min(Integer.MAX_VALUE, l);
        }
    }

    public static QuotaBook of(PoolSnapshot snapshot) {
        return new QuotaBook(snapshot);
    }

    /** The part of a contribution that becomes the contributor's nominal quota: rounded down. */
    public static int contributorShare(int contributedGpus, int reservePercent) {
        return (int) ((long) contributedGpus * (100 - reservePercent) / 100);
    }

    private static int get(Map<String, Integer> m, String key, int dflt) {
        if (m == null) {
            return dflt;
        }
        Integer v = m.get(key);
        return v == null ? dflt : v;
    }

    private static int limit(Map<String, Integer> m, String key) {
        int v = get(m, key, UNLIMITED);
        return v == UNLIMITED ? UNLIMITED : Math.max(0, v);
    }

    public PoolPolicy policy() {
        return policy;
    }

    public int classCount() {
        return classNames.size();
    }

    public int orgCount() {
        return orgs.size();
    }

    public List<String> classNames() {
        return List.copyOf(classNames);
    }

    public String className(int c) {
        return classNames.get(c);
    }

    /** The index of a class, or -1 when the pool has no such class. */
    public int classIndex(String name) {
        Integer i = name == null ? null : classIndex.get(name);
        return i == null ? -1 : i;
    }

    public String orgName(int o) {
        return orgs.get(o).name();
    }

    /**
     * The index of an organization, or -1. Every organization of the snapshot's quotas, nodes and workloads has one; a
     * workload without organization belongs to the organization named "".
     */
    public int orgIndex(String name) {
        Integer i = orgIndex.get(orgKey(name));
        return i == null ? -1 : i;
    }

    private static String orgKey(String name) {
        return name == null ? "" : name;
    }

    /** The organization's decayed net usage (value-weighted GPU-hours), 0 without usage history. */
    public double decayedNetUsage(int o) {
        return orgs.get(o).decayedNetUsage();
    }

    public double weight(int o) {
        return Math.max(0.0, orgs.get(o).weight());
    }

    public double value(int c) {
        return value[c];
    }

    public int capacity(int c) {
        return capacity[c];
    }

    public int contributed(int o, int c) {
        return contributed[o][c];
    }

    public int nominal(int o, int c) {
        return nominal[o][c];
    }

    /** Most GPUs the organization may use beyond its nominal quota, or {@link #UNLIMITED}. */
    public int borrowingLimit(int o, int c) {
        return borrowingLimit[o][c];
    }

    /** Most GPUs of its nominal quota others may borrow, or {@link #UNLIMITED}. */
    public int lendingLimit(int o, int c) {
        return lendingLimit[o][c];
    }

    public int nominalSum(int c) {
        return nominalSum[c];
    }

    public int commons(int c) {
        return commons[c];
    }

    public int lendable(int c) {
        return lendable[c];
    }

    /** {@link QuotaRules#keptBack} for one organization and class. */
    public int reserved(int o, int c, int quotaUsed) {
        return QuotaRules.keptBack(nominal[o][c], lendingLimit[o][c], quotaUsed);
    }

    /**
     * Whether an organization that uses {@code quotaUsed} GPUs of a class may take {@code gpus} more
     * ({@link QuotaRules#mayBorrow}).
     *
     * @param heldInClass     GPUs of the class held by everyone now (running, draining, claimed)
     * @param reservedInClass sum of {@link #reserved} over all organizations now
     */
    public boolean allows(int o, int c, int quotaUsed, int gpus, long heldInClass, long reservedInClass) {
        return quotaBlock(o, c, quotaUsed, gpus, heldInClass, reservedInClass) == QuotaRules.Block.NONE;
    }

    /** See {@link #allows}: which rule blocks, if any. */
    public QuotaRules.Block quotaBlock(int o, int c, int quotaUsed, int gpus, long heldInClass, long reservedInClass) {
        return QuotaRules.mayBorrow(quotaUsed, gpus, nominal[o][c], borrowingLimit[o][c], heldInClass,
                reservedInClass - reserved(o, c, quotaUsed), capacity[c]);
    }

    @Override
    public String toString() {
        return "QuotaBook" + classNames + " capacity=" + Arrays.toString(capacity) + " commons="
                + Arrays.toString(commons);
    }
}
