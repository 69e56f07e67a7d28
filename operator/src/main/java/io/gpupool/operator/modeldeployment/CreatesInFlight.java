package io.gpupool.operator.modeldeployment;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnAddFilter;

/**
 * Serving Deployments the operator is creating right now, so that the watch event of its own create wakes no second
 * reconcile of their ModelDeployment. JOSDK recognizes its own creates by the version the create returned, noted once
 * the response is read; the event often comes first (in a burst, for about 40 % of the Deployments, each then rendered
 * and reconciled again for nothing), and JOSDK's other means, an annotation on the child, is not used for Deployments
 * (JOSDK's default block list). A Deployment is noted before its POST is sent, keyed by the ModelDeployment's uid,
 * namespace and name, and forgotten when its add event is seen or once JOSDK has noted the create itself.
 *
 * <p>Only adds are filtered, and only of a Deployment this operator is creating under that owner: a Deployment made by
 * anyone else, or deleted and made again later, wakes its ModelDeployment as before.
 */
public final class CreatesInFlight implements OnAddFilter<Deployment> {

    private static final Set<String> CREATING = ConcurrentHashMap.newKeySet();

    /** Notes that the operator is about to create this child of the ModelDeployment {@code ownerUid}. */
    static void creating(String ownerUid, HasMetadata child) {
        CREATING.add(key(ownerUid, child));
    }

    /** The create returned (and JOSDK noted its version) or failed: its add event needs no help any more. */
    static void settled(String ownerUid, HasMetadata child) {
        CREATING.remove(key(ownerUid, child));
    }

    /** How many creates are in flight (for tests: none once a burst is done). */
    static int inFlight() {
        return CREATING.size();
    }

    @Override
    public boolean accept(Deployment added) {
        for (OwnerReference owner : added.getMetadata().getOwnerReferences()) {
            // Any owner: JOSDK's owner reference does not set controller: true.
            if (CREATING.remove(key(owner.getUid(), added))) {
                return false; // the operator's own create, being handled by the reconcile that made it
            }
        }
        return true;
    }

    private static String key(String ownerUid, HasMetadata child) {
        return ownerUid + '/' + child.getMetadata().getNamespace() + '/' + child.getMetadata().getName();
    }
}
