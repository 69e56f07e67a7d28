package io.gpupool.operator.cache;

import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;

/**
 * One copy of each repeated string in the informer caches. Jackson gives every string value it reads a copy of its
 * own, so the caches held the same namespace, label value, owner kind, condition reason and timestamp once per object
 * that mentions it: 110 strings per ModelDeployment, 100 MiB of the 246 MiB live heap at 15,000
 * ({@code hack/bench-apiserver.sh admission}, operator-heap-histogram.txt), and a ModelDeployment's name and uid
 * again in each child's labels and owner reference. The JVM's string table ({@link String#intern()}) is the
 * canonical copy: it holds its strings weakly, so a name nothing refers to any more goes with the last object.
 *
 * <p>Only what repeats across objects is interned (not resource versions, cluster IPs or hashes, which are unique);
 * a cached object is never changed afterwards, so sharing its strings changes nothing the operator reads.
 */
public final class CachedStrings {

    private CachedStrings() {
    }

    /** The canonical copy of {@code s} (null stays null). */
    public static String of(String s) {
        return s == null ? null : s.intern();
    }

    /**
     * The metadata's names, namespace, creation time, label values, finalizers and owner references. Label and
     * annotation keys need nothing: Jackson interns the names it reads.
     */
    public static void metadata(ObjectMeta meta) {
        if (meta == null) {
            return;
        }
        meta.setName(of(meta.getName()));
        meta.setNamespace(of(meta.getNamespace()));
        meta.setUid(of(meta.getUid()));
        meta.setCreationTimestamp(of(meta.getCreationTimestamp()));
        values(meta.getLabels());
        strings(meta.getFinalizers());
        List<OwnerReference> owners = meta.getOwnerReferences();
        if (owners != null) {
            for (OwnerReference owner : owners) {
                owner.setApiVersion(of(owner.getApiVersion()));
                owner.setKind(of(owner.getKind()));
                owner.setName(of(owner.getName()));
                owner.setUid(of(owner.getUid()));
            }
        }
    }

    /** A condition's type, status, reason, message and time: few distinct values among many objects. */
    public static void conditions(List<Condition> conditions) {
        if (conditions == null) {
            return;
        }
        for (Condition c : conditions) {
            c.setType(of(c.getType()));
            c.setStatus(of(c.getStatus()));
            c.setReason(of(c.getReason()));
            c.setMessage(of(c.getMessage()));
            c.setLastTransitionTime(of(c.getLastTransitionTime()));
        }
    }

    /**
     * Interns a map's values in place (labels, a selector's match labels). Objects the informer decodes have mutable
     * maps; one that does not (built in code) is kept as it is: sharing strings is a saving, never a requirement.
     */
    public static void values(Map<String, String> map) {
        if (map != null) {
            try {
                map.replaceAll((k, v) -> of(v));
            } catch (UnsupportedOperationException immutable) {
                // kept as it is
            }
        }
    }

    private static void strings(List<String> list) {
        if (list != null) {
            try {
                list.replaceAll(CachedStrings::of);
            } catch (UnsupportedOperationException immutable) {
                // kept as it is
            }
        }
    }
}
