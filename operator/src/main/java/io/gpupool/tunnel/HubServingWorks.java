package io.gpupool.tunnel;

import java.util.function.BiPredicate;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.inventory.NodeTrust;

/**
 * Which works the pool placed on which contributed cluster: the ServingWorks in the hub namespaces, from a watch. The
 * tunnel routes a request to a cluster only for a work found here, whatever its agent reports.
 */
public final class HubServingWorks implements BiPredicate<String, String>, AutoCloseable {

    private final SharedIndexInformer<ServingWork> informer;

    /** Watches every ServingWork of the pool (the gateway may list and watch them); returns once the list arrived. */
    public HubServingWorks(KubernetesClient client) {
        this.informer = client.resources(ServingWork.class).inAnyNamespace().inform();
    }

    @Override
    public boolean test(String cluster, String work) {
        return informer.getStore().getByKey(Cache.namespaceKeyFunc(NodeTrust.hubNamespace(cluster), work)) != null;
    }

    /** The informer, for whoever else needs the ServingWorks (the gateway's routing). */
    public SharedIndexInformer<ServingWork> informer() {
        return informer;
    }

    @Override
    public void close() {
        informer.stop();
    }
}
