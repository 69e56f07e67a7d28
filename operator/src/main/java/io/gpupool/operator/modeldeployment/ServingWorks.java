package io.gpupool.operator.modeldeployment;

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
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.serving.RemoteWork;
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
     * Makes a ModelDeployment's ServingWork what the decision says: creates or updates (spec only) the desired ones and
     * deletes the obsolete ones.
     *
     * @param desired  the ServingWork that should exist (rendered)
     * @param obsolete those to delete
     * @param current  the ModelDeployment's ServingWork as the informer sees it
     */
    static void apply(KubernetesClient client, List<ServingWork> desired, List<ServingWork> obsolete,
            List<ServingWork> current) {
        Map<String, ServingWork> byNamespace = new HashMap<>();
        current.forEach(w -> byNamespace.put(w.getMetadata().getNamespace(), w));
        for (ServingWork work : desired) {
            ServingWork have = byNamespace.get(work.getMetadata().getNamespace());
            try {
                if (have == null) {
                    client.resource(work).create();
                    LOG.infof("ServingWork %s/%s created: %d replica(s) on cluster %s",
                            work.getMetadata().getNamespace(), work.getMetadata().getName(), work.getSpec().replicas,
                            RemoteWork.cluster(work));
                } else if (!Objects.equals(JSON.asJson(have.getSpec()), JSON.asJson(work.getSpec()))) {
                    client.resources(ServingWork.class).inNamespace(have.getMetadata().getNamespace())
                            .withName(have.getMetadata().getName()).edit(w -> {
                                w.setSpec(work.getSpec());
                                return w;
                            });
                }
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e;
                }
                // created meanwhile; the informer event brings us back
            }
        }
        deleteAll(client, obsolete);
    }

    static void deleteAll(KubernetesClient client, List<ServingWork> works) {
        for (ServingWork w : works) {
            client.resources(ServingWork.class).inNamespace(w.getMetadata().getNamespace())
                    .withName(w.getMetadata().getName()).delete();
            LOG.infof("ServingWork %s/%s deleted", w.getMetadata().getNamespace(), w.getMetadata().getName());
        }
    }
}
