package io.gpupool.operator.node;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;

/** The namespace at the pool that holds one cluster's GpuNodes (and its work): gpupool-cluster-&lt;cluster&gt;. */
public final class HubNamespaces {

    private HubNamespaces() {
    }

    public static String name(String cluster) {
        return "gpupool-cluster-" + cluster;
    }

    /** Creates the namespace when it is missing. */
    public static void ensure(KubernetesClient client, String cluster) {
        String name = name(cluster);
        if (client.namespaces().withName(name).get() == null) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
                    .addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                    .addToLabels(ApiGroup.CLUSTER_LABEL, cluster).endMetadata().build()).create();
        }
    }
}
