package io.gpupool.e2e;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.discovery.NodeGpuDiscovery;
import io.gpupool.core.render.ServingRenderer;

/**
 * Watches every serving pod and every Node of the cluster and checks, at every pod event it observes, what must hold
 * at every moment: no node has more GPUs requested by its bound, unfinished pods (Terminating ones included: they
 * still hold their GPUs) than it has allocatable, and no pod is bound to another node than the one the operator chose
 * for it (its {@code gpupool.io/node} annotation). Violations are collected, not thrown from the informer's thread.
 */
final class PodLedger implements AutoCloseable {

    private final SharedIndexInformer<Pod> pods;
    private final SharedIndexInformer<Node> nodes;
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final AtomicInteger observations = new AtomicInteger();

    PodLedger(KubernetesClient client) {
        nodes = client.nodes().inform();
        pods = client.pods().inAnyNamespace().withLabel(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                        observe();
                    }

                    @Override
                    public void onUpdate(Pod before, Pod pod) {
                        observe();
                    }

                    @Override
                    public void onDelete(Pod pod, boolean unknown) {
                        observe();
                    }
                });
    }

    private synchronized void observe() {
        observations.incrementAndGet();
        Map<String, Integer> requested = new HashMap<>();
        for (Pod p : pods.getStore().list()) {
            String node = p.getSpec().getNodeName();
            if (node == null || finished(p)) {
                continue;
            }
            String chosen = p.getMetadata().getAnnotations() == null ? null
                    : p.getMetadata().getAnnotations().get(ServingRenderer.NODE_ANNOTATION);
            if (chosen != null && !chosen.equals(node)) {
                violations.add("pod " + key(p) + " bound to " + node + ", but the operator chose " + chosen);
            }
            requested.merge(node, gpus(p), Integer::sum);
        }
        requested.forEach((node, sum) -> {
            int capacity = allocatable(node);
            if (sum > capacity) {
                violations.add("node " + node + ": its bound pods request " + sum + " GPUs, it has " + capacity);
            }
        });
    }

    /** What went wrong so far (empty when every observation was sound). */
    List<String> violations() {
        return List.copyOf(violations);
    }

    /** How many pod events were checked. */
    int observations() {
        return observations.get();
    }

    /** The serving pods of a ModelDeployment, from the watch. */
    List<Pod> podsOf(String namespace, String md) {
        List<Pod> out = new ArrayList<>();
        for (Pod p : pods.getStore().list()) {
            if (namespace.equals(p.getMetadata().getNamespace())
                    && md.equals(p.getMetadata().getLabels().get(ApiGroup.MODEL_DEPLOYMENT_LABEL))) {
                out.add(p);
            }
        }
        return out;
    }

    List<Pod> all() {
        return pods.getStore().list();
    }

    /**
     * Whether the ModelDeployment runs exactly as admitted: for each placement as many Ready pods bound to its node as
     * replicas, and no other pod (none Pending, none elsewhere, none still terminating). Returns what differs, or
     * nothing.
     */
    String differenceFromPlacements(ModelDeployment md) {
        Map<String, Integer> wanted = new HashMap<>();
        if (md.getStatus() != null && md.getStatus().placements != null) {
            for (Placement p : md.getStatus().placements) {
                if (p.replicas > 0) {
                    wanted.merge(p.node, p.replicas, Integer::sum);
                }
            }
        }
        Map<String, Integer> running = new HashMap<>();
        List<String> other = new ArrayList<>();
        for (Pod p : podsOf(md.getMetadata().getNamespace(), md.getMetadata().getName())) {
            String node = p.getSpec().getNodeName();
            if (node == null) {
                other.add(p.getMetadata().getName() + " Pending");
            } else if (p.getMetadata().getDeletionTimestamp() != null) {
                other.add(p.getMetadata().getName() + " Terminating on " + node);
            } else if (!ready(p)) {
                other.add(p.getMetadata().getName() + " not Ready on " + node);
            } else {
                running.merge(node, 1, Integer::sum);
            }
        }
        if (wanted.equals(running) && other.isEmpty()) {
            return "";
        }
        return md.getMetadata().getNamespace() + "/" + md.getMetadata().getName() + ": placed " + wanted
                + ", Ready pods per node " + running + (other.isEmpty() ? "" : ", also " + other);
    }

    static boolean ready(Pod p) {
        return p.getStatus() != null && p.getStatus().getConditions() != null && p.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static boolean finished(Pod p) {
        String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    private int allocatable(String node) {
        Node n = nodes.getStore().getByKey(node);
        if (n == null || n.getStatus() == null || n.getStatus().getAllocatable() == null) {
            return 0;
        }
        Quantity q = n.getStatus().getAllocatable().get(NodeGpuDiscovery.GPU_RESOURCE);
        return q == null ? 0 : Quantity.getAmountInBytes(q).intValue();
    }

    private static int gpus(Pod p) {
        int sum = 0;
        for (var c : p.getSpec().getContainers()) {
            if (c.getResources() != null && c.getResources().getRequests() != null) {
                Quantity q = c.getResources().getRequests().get(NodeGpuDiscovery.GPU_RESOURCE);
                if (q != null) {
                    sum += Quantity.getAmountInBytes(q).intValue();
                }
            }
        }
        return sum;
    }

    private static String key(Pod p) {
        return p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
    }

    @Override
    public void close() {
        pods.close();
        nodes.close();
    }
}
