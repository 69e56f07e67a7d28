package io.gpupool.operator.scheduling;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.Withdrawal;

/**
 * Whether each GpuNode is alive, judged on the pool's own clock: when its current heartbeat arrived, since when it is
 * not ready, since when it is being withdrawn. A contributor's clock that runs behind or ahead neither kills nor
 * immortalises its nodes. {@link #observe} is called for every GpuNode event (before any filtering); {@link #assess}
 * once per admission cycle turns the GpuNodes into the engine's nodes with their states.
 */
final class NodeLiveness {

    private final Clock clock;
    private final Map<NodeKey, Seen> seen = new ConcurrentHashMap<>();
    /** When the pool first saw each node not ready (it moves their replicas after the heartbeat timeout). */
    private final Map<NodeKey, Instant> notReadySince = new ConcurrentHashMap<>();
    /** When the pool first saw each node being withdrawn (its handover of replicas is timed from then). */
    private final Map<NodeKey, Instant> withdrawingSince = new ConcurrentHashMap<>();

    NodeLiveness(Clock clock) {
        this.clock = clock;
    }

    /** A heartbeat value and when the pool first saw it. */
    record Seen(String beat, Instant at) {
    }

    /**
     * The nodes as one cycle sees them.
     *
     * @param nodes       the believed GpuNodes, with their states
     * @param gone        nodes gone (silent, or not ready past the heartbeat timeout)
     * @param withdrawing nodes their contributors are taking back, and since when
     * @param nextExpiry  when the next heartbeat or unreadiness expires (a cycle must run then), or null
     */
    record Assessment(List<PoolNode> nodes, Set<NodeKey> gone, Map<NodeKey, Withdrawal> withdrawing,
            Instant nextExpiry) {
    }

    /** Notes, at the pool's own time, that a GpuNode's heartbeat changed and since when it is not ready or withdrawn. */
    void observe(GpuNode n) {
        if (n.getSpec() == null || n.getSpec().cluster == null) {
            return;
        }
        NodeKey key = PoolInputs.nodeKey(n);
        Instant now = clock.instant();
        note(notReadySince, key, notReady(n), now);
        note(withdrawingSince, key, withdrawn(n), now);
        if (n.getStatus() == null || n.getStatus().lastHeartbeatTime == null) {
            return;
        }
        String beat = n.getStatus().lastHeartbeatTime;
        Seen before = seen.get(key);
        if (before == null || !before.beat().equals(beat)) {
            seen.put(key, new Seen(beat, now));
        }
    }

    /**
     * Turns the believed GpuNodes into the engine's nodes, and forgets what it knew of nodes that are no longer there.
     *
     * @param approved approved contributed clusters (name → organization): a GpuNode that is not believed is left out,
     *                 and the status publisher says why on it
     */
    Assessment assess(List<GpuNode> gpuNodes, Map<String, String> approved, List<GpuClassDef> classes,
            Duration timeout) {
        return assess(gpuNodes, approved, classes, timeout, null);
    }

    /**
     * @param pool the pool's policy: the most GPUs a node may claim, and what it consents to for its own nodes
     */
    Assessment assess(List<GpuNode> gpuNodes, Map<String, String> approved, List<GpuClassDef> classes,
            Duration timeout, io.gpupool.api.v1alpha1.GpuPoolSpec pool) {
        int maxGpusPerNode = PoolInputs.maxGpusPerNode(pool);
        Instant now = clock.instant();
        List<PoolNode> nodes = new ArrayList<>();
        Set<NodeKey> gone = new HashSet<>();
        Map<NodeKey, Withdrawal> leaving = new HashMap<>();
        Instant nextExpiry = null;
        for (GpuNode n : gpuNodes) {
            if (NodeTrust.check(n, approved, maxGpusPerNode).isPresent()) {
                continue;
            }
            // The operator watches its own cluster's nodes itself; a contributed node lives only by its heartbeat.
            Instant heartbeat = NodeTrust.LOCAL_CLUSTER.equals(n.getSpec().cluster) ? null : heartbeat(n, now);
            NodeKey key = PoolInputs.nodeKey(n);
            Instant unready = note(notReadySince, key, notReady(n), now);
            Instant withdrawnSince = note(withdrawingSince, key, withdrawn(n), now);
            PoolNode node = PoolInputs.node(n, classes, pool, heartbeat, unready, now, timeout);
            nodes.add(node);
            if (node.state() == NodeState.GONE) {
                gone.add(node.key());
                continue;
            }
            if (node.state() == NodeState.WITHDRAWING) {
                leaving.put(key, new Withdrawal(node.gpuClass(), withdrawnSince));
            }
            // Silence and unreadiness send no event when they expire: ask for a cycle at the earliest expiry.
            for (Instant since : new Instant[] { heartbeat, unready }) {
                if (since != null) {
                    Instant expiry = since.plus(timeout).plusSeconds(1);
                    nextExpiry = nextExpiry == null || expiry.isBefore(nextExpiry) ? expiry : nextExpiry;
                }
            }
        }
        Set<NodeKey> present = new HashSet<>();
        nodes.forEach(n -> present.add(n.key()));
        seen.keySet().retainAll(present);
        notReadySince.keySet().retainAll(present);
        withdrawingSince.keySet().retainAll(present);
        return new Assessment(nodes, Set.copyOf(gone), Map.copyOf(leaving), nextExpiry);
    }

    /**
     * When a contributed node was last heard from: when the pool saw its current heartbeat arrive; for a heartbeat
     * the pool has not seen arrive (it started since), the agent's timestamp, but never later than now; before the
     * first heartbeat, the GpuNode's creation; the epoch (long gone) when nothing is known.
     */
    Instant heartbeat(GpuNode n, Instant now) {
        String beat = n.getStatus() == null ? null : n.getStatus().lastHeartbeatTime;
        NodeKey key = PoolInputs.nodeKey(n);
        Seen s = seen.get(key);
        if (beat != null && s != null && s.beat().equals(beat)) {
            return s.at();
        }
        Instant stamped = PoolInputs.parseTime(beat);
        if (stamped != null) {
            Instant at = stamped.isAfter(now) ? now : stamped;
            seen.put(key, new Seen(beat, at));
            return at;
        }
        Instant created = PoolInputs.parseTime(n.getMetadata().getCreationTimestamp());
        return created == null ? Instant.EPOCH : created.isAfter(now) ? now : created;
    }

    private static boolean notReady(GpuNode n) {
        return Boolean.FALSE.equals(n.getSpec().nodeReady);
    }

    private static boolean withdrawn(GpuNode n) {
        return Boolean.TRUE.equals(n.getSpec().unschedulable) || Boolean.TRUE.equals(n.getSpec().withdrawn);
    }

    /** Remembers since when a node has been in a state (first sight, on the pool's clock), or forgets it. */
    private static Instant note(Map<NodeKey, Instant> since, NodeKey key, boolean inState, Instant now) {
        if (!inState) {
            since.remove(key);
            return null;
        }
        return since.computeIfAbsent(key, k -> now);
    }
}
