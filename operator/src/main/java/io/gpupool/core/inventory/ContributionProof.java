package io.gpupool.core.inventory;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PoolNode;

/**
 * Which contributed GPUs count (docs/fair-share.md §10). A GpuNode's GPUs are placed on as soon as the pool believes
 * it, but they earn its organization nominal quota, and count as "contributed" in the ledger, only once verified:
 * <ul>
 * <li>a node of the pool's own cluster: at once (the pool's own kubelet and device plugin report it);</li>
 * <li>a node of a contributed cluster: as many GPUs as Ready replicas the pool placed there have held at once, at
 * the most, on any UTC day of the last {@code windowDays} days (its <em>proven</em> GPUs), never more than it
 * claims;</li>
 * <li>and, for a contributed cluster, no more per GpuClass than the ceiling its ContributedCluster sets (the pool
 * admin's word on what it may bring), shared among its nodes in name order; no ceiling: no limit but the proof.</li>
 * </ul>
 * It sees only the nodes the pool believes ({@link NodeTrust}, which refuses, among others, a GpuNode claiming more GPUs
 * than a machine carries): belief is all or nothing, this is how much of a believed node counts. So a GpuNode that
 * inflates its claim raises no quota until replicas have served on its GPUs, and never beyond the ceiling.
 * Peaks are kept per node and day; the caller saves and restores them across restarts.
 */
public final class ContributionProof {

    /** GPUs of a node that count, and why. */
    public record Counted(int gpus, String reason, String message) {
    }

    public static final String VERIFIED = "Verified";
    public static final String PROVEN = "Proven";
    public static final String NOT_PROVEN = "NotProven";
    public static final String ABOVE_CEILING = "AboveCeiling";

    private final int windowDays;
    private final Map<NodeKey, TreeMap<LocalDate, Integer>> peaks = new HashMap<>();

    public ContributionProof(int windowDays) {
        this.windowDays = Math.max(1, windowDays);
    }

    /** GPUs Ready replicas the pool placed hold on each node now: each node's peak of the day rises to it. */
    public void record(Instant now, Map<NodeKey, Integer> readyGpus) {
        LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
        readyGpus.forEach((node, gpus) -> {
            if (gpus > 0) {
                peaks.computeIfAbsent(node, n -> new TreeMap<>()).merge(today, gpus, Math::max);
            }
        });
        LocalDate oldest = today.minusDays(windowDays - 1L);
        peaks.values().forEach(p -> p.headMap(oldest).clear());
        peaks.values().removeIf(TreeMap::isEmpty);
    }

    /** The most GPUs Ready replicas held at once on the node on any day of the window ending {@code now}. */
    public int proven(NodeKey node, Instant now) {
        TreeMap<LocalDate, Integer> p = peaks.get(node);
        if (p == null) {
            return 0;
        }
        LocalDate oldest = LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(windowDays - 1L);
        int best = 0;
        for (Integer g : p.tailMap(oldest).values()) {
            best = Math.max(best, g);
        }
        return best;
    }

    /** The peaks of a node per day, for saving. */
    public SortedMap<LocalDate, Integer> peaks(NodeKey node) {
        TreeMap<LocalDate, Integer> p = peaks.get(node);
        return p == null ? Collections.emptySortedMap() : Collections.unmodifiableSortedMap(p);
    }

    /** Nodes with peaks. */
    public List<NodeKey> nodes() {
        return new ArrayList<>(peaks.keySet());
    }

    /** Takes back saved peaks of a node (after a restart); a day already known keeps the higher peak. */
    public void restore(NodeKey node, Map<LocalDate, Integer> saved) {
        saved.forEach((day, gpus) -> {
            if (gpus != null && gpus > 0) {
                peaks.computeIfAbsent(node, n -> new TreeMap<>()).merge(day, gpus, Math::max);
            }
        });
    }

    /**
     * The GPUs of every node that count.
     *
     * @param ceilings per contributed cluster and GpuClass, the most GPUs that may count (absent: no ceiling)
     * @param local    the pool's own cluster
     */
    public Map<NodeKey, Counted> counted(List<PoolNode> nodes, Map<String, Map<String, Integer>> ceilings,
            String local, Instant now) {
        Map<NodeKey, Counted> out = new HashMap<>();
        List<PoolNode> sorted = new ArrayList<>(nodes);
        sorted.sort((a, b) -> a.key().compareTo(b.key()));
        Map<String, Map<String, Integer>> left = new HashMap<>();
        ceilings.forEach((cluster, perClass) -> left.put(cluster, new HashMap<>(perClass)));
        for (PoolNode n : sorted) {
            String cluster = n.key().cluster();
            if (local.equals(cluster)) {
                out.put(n.key(), new Counted(n.gpus(), VERIFIED, "A node of the pool's own cluster: all " + n.gpus()
                        + " GPU(s) count."));
                continue;
            }
            int proven = Math.min(n.gpus(), proven(n.key(), now));
            // A node no GpuClass matches (gpuClass null) has no ceiling: it is not placed on, so nothing proves it.
            Map<String, Integer> perClass = left.get(cluster);
            Integer ceiling = perClass == null || n.gpuClass() == null ? null : perClass.get(n.gpuClass());
            int counted = ceiling == null ? proven : Math.min(proven, ceiling);
            if (ceiling != null) {
                left.get(cluster).put(n.gpuClass(), ceiling - counted);
            }
            String why;
            String reason;
            if (counted < proven) {
                reason = ABOVE_CEILING;
                why = counted + " of " + n.gpus() + " GPU(s) count: ContributedCluster " + cluster + " may bring "
                        + "no more GPUs of class " + n.gpuClass() + " (its ceiling), the rest are placed on but earn "
                        + "no quota.";
            } else if (proven == 0) {
                reason = NOT_PROVEN;
                why = "None of its " + n.gpus() + " GPU(s) count yet: a contributed node's GPUs earn quota once "
                        + "Ready replicas placed there have used them (in the last " + windowDays + " day(s)).";
            } else {
                reason = PROVEN;
                why = counted + " of " + n.gpus() + " GPU(s) count: the most that Ready replicas placed there used at "
                        + "once in the last " + windowDays + " day(s).";
            }
            out.put(n.key(), new Counted(counted, reason, why));
        }
        return out;
    }
}
