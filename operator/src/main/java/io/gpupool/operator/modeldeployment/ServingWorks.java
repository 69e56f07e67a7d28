package io.gpupool.operator.modeldeployment;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuNodeStatus;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.discovery.GpuNodes;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingSettings;
import io.javaoperatorsdk.operator.processing.event.ResourceID;

/**
 * The ServingWork of a ModelDeployment: one per contributed cluster its replicas are placed on, in that cluster's hub
 * namespace, rendered by {@link RemoteWorkRenderer}. The operator writes the spec; the cluster's agent writes the status.
 * No owner references: a namespaced owner cannot own objects in another namespace, so the reconciler deletes them on
 * cleanup and the informer maps them back by labels.
 */
final class ServingWorks {

    private static final Logger LOG = Logger.getLogger(ServingWorks.class);
    private static final KubernetesSerialization JSON = new KubernetesSerialization();

    private ServingWorks() {
    }

    /** The ModelDeployment a ServingWork belongs to, from its labels. */
    static Set<ResourceID> owner(ServingWork work) {
        Map<String, String> labels = work.getMetadata().getLabels();
        String name = labels == null ? null : labels.get(ApiGroup.MODEL_DEPLOYMENT_LABEL);
        String namespace = labels == null ? null : labels.get(RemoteWorkRenderer.MD_NAMESPACE_LABEL);
        return name == null || namespace == null ? Set.of() : Set.of(new ResourceID(name, namespace));
    }

    /**
     * Makes the ServingWork of {@code md} match its placements: creates, updates (spec only) and deletes. The work of
     * a cluster that no longer has replicas is emptied first and deleted once its agent reports no pod left (or the
     * cluster is gone), so that the pool sees the GPUs of stopping pods until they are free.
     *
     * @param current   the ModelDeployment's ServingWork as the informer sees it
     * @param goneNodes nodes the pool counts as gone: nothing they report is waited for
     * @return the ServingWork that should exist now (with the status last reported for each)
     */
    static List<ServingWork> apply(KubernetesClient client, ModelDeployment md, String organization,
            List<Placement> placements, ServingSettings settings, List<ServingWork> current, Set<NodeKey> goneNodes) {
        Map<String, ServingWork> byNamespace = new HashMap<>();
        current.forEach(w -> byNamespace.put(w.getMetadata().getNamespace(), w));
        List<String> clusters = new ArrayList<>(RemoteWorkRenderer.remoteClusters(placements));
        for (ServingWork w : current) {
            String cluster = cluster(w);
            if (cluster != null && !clusters.contains(cluster) && podsLeft(w, cluster, goneNodes)) {
                clusters.add(cluster); // rendered without replicas: the agent stops them and reports when they are gone
            }
        }
        List<ServingWork> kept = new ArrayList<>();
        for (String cluster : clusters) {
            ServingWork desired = RemoteWorkRenderer.render(md, organization, cluster, placements, settings);
            ServingWork have = byNamespace.remove(desired.getMetadata().getNamespace());
            try {
                if (have == null) {
                    client.resource(desired).create();
                    LOG.infof("ServingWork %s/%s created: %d replica(s) on cluster %s",
                            desired.getMetadata().getNamespace(), desired.getMetadata().getName(),
                            desired.getSpec().replicas, cluster);
                    kept.add(desired);
                } else if (!Objects.equals(JSON.asJson(have.getSpec()), JSON.asJson(desired.getSpec()))) {
                    ServingWork updated = client.resources(ServingWork.class)
                            .inNamespace(have.getMetadata().getNamespace()).withName(have.getMetadata().getName())
                            .edit(w -> {
                                w.setSpec(desired.getSpec());
                                return w;
                            });
                    kept.add(updated == null ? have : updated);
                } else {
                    kept.add(have);
                }
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e;
                }
                kept.add(have == null ? desired : have); // created meanwhile; the informer event brings us back
            }
        }
        deleteAll(client, new ArrayList<>(byNamespace.values()));
        return kept;
    }

    static void deleteAll(KubernetesClient client, List<ServingWork> works) {
        for (ServingWork w : works) {
            client.resources(ServingWork.class).inNamespace(w.getMetadata().getNamespace())
                    .withName(w.getMetadata().getName()).delete();
            LOG.infof("ServingWork %s/%s deleted", w.getMetadata().getNamespace(), w.getMetadata().getName());
        }
    }

    /** The contributed clusters these works are in. */
    static List<String> clusters(List<ServingWork> works) {
        return works.stream().map(ServingWorks::cluster).filter(Objects::nonNull).distinct().toList();
    }

    private static String cluster(ServingWork w) {
        return w.getMetadata().getLabels() == null ? null : w.getMetadata().getLabels().get(ApiGroup.CLUSTER_LABEL);
    }

    /** Whether the work's agent still reports pods on nodes of its cluster that are not gone. */
    static boolean podsLeft(ServingWork w, String cluster, Set<NodeKey> goneNodes) {
        if (w.getStatus() == null || w.getStatus().nodes == null) {
            return false;
        }
        return w.getStatus().nodes.stream().anyMatch(n -> n.node != null && n.pods != null && n.pods > 0
                && !goneNodes.contains(new NodeKey(cluster, n.node)));
    }

    /** Ready replicas per node of contributed clusters, as their agents report them. */
    static Map<NodeKey, Integer> readyByNode(List<ServingWork> works) {
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

    /** Replicas the agents report ready, no more than each work asks for. */
    static int readyReplicas(List<ServingWork> works) {
        int ready = 0;
        for (ServingWork w : works) {
            if (w.getStatus() != null && w.getStatus().readyReplicas != null && w.getSpec() != null
                    && w.getSpec().replicas != null) {
                ready += Math.min(w.getStatus().readyReplicas, w.getSpec().replicas);
            }
        }
        return ready;
    }

    /** True when a GpuNode update changed nothing but the agent's heartbeat. */
    static boolean onlyHeartbeat(GpuNode before, GpuNode now) {
        if (before == null || now == null || !GpuNodes.sameSpec(before.getSpec(), now.getSpec())
                || !Objects.equals(before.getMetadata().getDeletionTimestamp(), now.getMetadata().getDeletionTimestamp())
                || !Objects.equals(before.getMetadata().getLabels(), now.getMetadata().getLabels())) {
            return false;
        }
        GpuNodeStatus a = before.getStatus() == null ? new GpuNodeStatus() : before.getStatus();
        GpuNodeStatus b = now.getStatus() == null ? new GpuNodeStatus() : now.getStatus();
        return Objects.equals(a.gpuClass, b.gpuClass) && Objects.equals(a.allocatable, b.allocatable)
                && Objects.equals(a.allocated, b.allocated) && Objects.equals(a.conditions, b.conditions);
    }
}
