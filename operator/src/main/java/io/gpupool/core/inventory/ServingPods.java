package io.gpupool.core.inventory;

import java.util.Map;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.core.discovery.NodeGpuDiscovery;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.render.ServingRenderer;

/**
 * Which pods of the pool's own cluster are a ModelDeployment's serving pods: the ones that hold GPUs in the
 * scheduler's books (so that those GPUs stay booked while the pods stop) and the only ones the gateway sends requests,
 * and so members' prompts, to. Labels and annotations are the pod creator's word, and any tenant who may create a Pod
 * can write them: a pod counts only when everything about it is what the operator's own serving Deployment would make,
 * on the node it claims:
 * <ul>
 * <li>it carries the ModelDeployment's label, the node annotation and the node-hash label of that node;</li>
 * <li>its controller is a ReplicaSet of the Deployment the operator renders for that ModelDeployment and node (the
 * Deployment controller names it {@code <deployment>-<pod-template-hash>} and puts that hash on the pod);</li>
 * <li>it is bound to that node ({@code spec.nodeName}): a pod that is not scheduled, or runs elsewhere, holds nothing
 * there;</li>
 * <li>it asks for GPUs: a pod without an {@code nvidia.com/gpu} limit holds none.</li>
 * </ul>
 * A pod made by hand to look like this in a tenant's own namespace books, at most, GPUs for that tenant's own
 * ModelDeployment on a node where the kubelet really gave it GPUs (otherwise it fails and is not counted): it cannot
 * book GPUs for anybody else, or on a node that it does not run on.
 * An owner reference is checked by name, not by uid (no informer on ReplicaSets is needed): one naming a ReplicaSet
 * that does not exist is a dangling owner, and the garbage collector deletes such a pod.
 */
public final class ServingPods {

    /** Label the Deployment controller puts on a ReplicaSet's pods (the ReplicaSet's name ends with it). */
    public static final String POD_TEMPLATE_HASH_LABEL = "pod-template-hash";

    /** The ModelDeployment a pod serves and the node whose GPUs it holds. */
    public record Claim(WorkloadId workload, String node) {
    }

    private ServingPods() {
    }

    /** Where a pod of the pool's own cluster holds GPUs; empty when it holds none that the pool should count. */
    public static Optional<Claim> claim(Pod pod) {
        var meta = pod.getMetadata();
        if (meta == null || meta.getLabels() == null || meta.getAnnotations() == null || pod.getSpec() == null) {
            return Optional.empty();
        }
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
            return Optional.empty();
        }
        Map<String, String> labels = meta.getLabels();
        String md = labels.get(ApiGroup.MODEL_DEPLOYMENT_LABEL);
        String node = meta.getAnnotations().get(ServingRenderer.NODE_ANNOTATION);
        if (md == null || node == null || !ApiGroup.MANAGED_BY.equals(labels.get(ApiGroup.MANAGED_BY_LABEL))
                || !ServingRenderer.nodeHash(NodeTrust.LOCAL_CLUSTER, node).equals(
                        labels.get(ServingRenderer.NODE_HASH_LABEL))
                || !node.equals(pod.getSpec().getNodeName())
                || !ownedByTheOperatorsDeployment(pod, ServingRenderer.deploymentName(md, NodeTrust.LOCAL_CLUSTER, node))
                || !asksForGpus(pod)) {
            return Optional.empty();
        }
        return Optional.of(new Claim(new WorkloadId(meta.getNamespace(), md), node));
    }

    private static boolean ownedByTheOperatorsDeployment(Pod pod, String deployment) {
        String hash = pod.getMetadata().getLabels().get(POD_TEMPLATE_HASH_LABEL);
        if (hash == null || hash.isEmpty() || pod.getMetadata().getOwnerReferences() == null) {
            return false;
        }
        for (OwnerReference owner : pod.getMetadata().getOwnerReferences()) {
            if (Boolean.TRUE.equals(owner.getController())) {
                return "ReplicaSet".equals(owner.getKind()) && owner.getApiVersion() != null
                        && owner.getApiVersion().startsWith("apps/")
                        && (deployment + "-" + hash).equals(owner.getName());
            }
        }
        return false;
    }

    private static boolean asksForGpus(Pod pod) {
        if (pod.getSpec().getContainers() == null) {
            return false;
        }
        for (Container c : pod.getSpec().getContainers()) {
            Quantity gpus = c.getResources() == null || c.getResources().getLimits() == null ? null
                    : c.getResources().getLimits().get(NodeGpuDiscovery.GPU_RESOURCE);
            if (gpus != null && gpus.getNumericalAmount().signum() > 0) {
                return true;
            }
        }
        return false;
    }
}
