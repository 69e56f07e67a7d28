package io.gpupool.cluster;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.fabric8.kubernetes.api.model.Pod;

/**
 * How the {@link SimulatedKubelet} gives a pod its IP when the pod starts, and takes it back when the pod is gone: the
 * part of a kubelet's CNI a test or the playground may want to choose (e.g. distinct loopback addresses on which a fake
 * engine answers, so that the pod IP in status is one a client can reach).
 */
public interface PodNetwork {

    /** An address for a pod that starts on its node ({@code spec.nodeName}). */
    String assign(Pod pod);

    /** The pod is gone (deleted, or completed): its address may be given again. */
    default void release(Pod pod) {
    }

    /**
     * Addresses as a cluster's pod CIDR hands them out: each node its own /24 of 10.244.0.0/16 (in the order nodes
     * first run a pod), each pod the next address of its node's range. Nothing answers on them.
     */
    static PodNetwork podCidr() {
        return new PodNetwork() {
            private final Map<String, Integer> nodes = new ConcurrentHashMap<>();
            private final Map<String, AtomicInteger> next = new ConcurrentHashMap<>();

            @Override
            public String assign(Pod pod) {
                String node = pod.getSpec().getNodeName();
                int subnet = nodes.computeIfAbsent(node, n -> nodes.size() % 256);
                int host = next.computeIfAbsent(node, n -> new AtomicInteger()).getAndIncrement() % 254 + 1;
                return "10.244." + subnet + "." + host;
            }
        };
    }
}
