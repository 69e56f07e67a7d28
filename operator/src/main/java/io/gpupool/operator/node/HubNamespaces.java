package io.gpupool.operator.node;

import java.net.HttpURLConnection;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.ApiGroup;

/** The namespace at the pool that holds one cluster's GpuNodes (and its work): gpupool-cluster-&lt;cluster&gt;. */
public final class HubNamespaces {

    private HubNamespaces() {
    }

    public static String name(String cluster) {
        return "gpupool-cluster-" + cluster;
    }

    /**
     * Creates the namespace when it is missing. Reconciles of different Nodes run in parallel and may all find it
     * missing: the ones that lose the race get 409 Conflict, which means it exists, as wanted.
     */
    public static void ensure(KubernetesClient client, String cluster) {
        String name = name(cluster);
        if (client.namespaces().withName(name).get() == null) {
            try {
                client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
                        .addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                        .addToLabels(ApiGroup.CLUSTER_LABEL, cluster).endMetadata().build()).create();
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw e;
                }
            }
        }
    }
}
