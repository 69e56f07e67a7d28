package io.gpupool.core.serving;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.model.NodeKey;

/** What a ModelDeployment's ServingWork objects say: their cluster, and what their agents report. */
public final class RemoteWork {

    private RemoteWork() {
    }

    /** The contributed cluster a ServingWork is for, from its label. */
    public static String cluster(ServingWork w) {
        return w.getMetadata().getLabels() == null ? null : w.getMetadata().getLabels().get(ApiGroup.CLUSTER_LABEL);
    }

    /** The contributed clusters these works are in. */
    public static List<String> clusters(List<ServingWork> works) {
        return works.stream().map(RemoteWork::cluster).filter(Objects::nonNull).distinct().toList();
    }

    /** Whether the work's agent still reports pods on nodes of its cluster that are not gone. */
    public static boolean podsLeft(ServingWork w, String cluster, Set<NodeKey> goneNodes) {
        if (w.getStatus() == null || w.getStatus().nodes == null) {
            return false;
        }
        return w.getStatus().nodes.stream().anyMatch(n -> n.node != null && n.pods != null && n.pods > 0
                && !goneNodes.contains(new NodeKey(cluster, n.node)));
    }

    /** Ready replicas per node of contributed clusters, as their agents report them. */
    public static Map<NodeKey, Integer> readyByNode(List<ServingWork> works) {
        Map<NodeKey, Integer> out = new HashMap<>();
        for (ServingWork w : works) {
            String cluster = cluster(w);
            if (cluster == null || w.getStatus() == null || w.getStatus().nodes == null) {
                continue;
            }
            for (var n : w.getStatus().nodes) {
                if (n.node != null && n.ready != null && n.ready > 0) {
                    out.merge(new NodeKey(cluster, n.node), n.ready, Integer::sum);
                }
            }
        }
        return out;
    }
}
