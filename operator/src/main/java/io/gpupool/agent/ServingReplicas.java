package io.gpupool.agent;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.tunnel.agent.ServingEndpoints;

/**
 * The serving pods an agent's tunnel may reach, read from the agent's watches: for every ServingWork of its hub
 * namespace (the only ones its credentials can see), the work's pods in the serving namespace (by the work's label)
 * that are ready and not stopping, at their IP and serving port.
 */
final class ServingReplicas implements ServingEndpoints {

    private final Supplier<SharedIndexInformer<ServingWork>> works;
    private final Supplier<SharedIndexInformer<Pod>> pods;
    private final List<Runnable> listeners;

    ServingReplicas(Supplier<SharedIndexInformer<ServingWork>> works, Supplier<SharedIndexInformer<Pod>> pods,
            List<Runnable> listeners) {
        this.works = works;
        this.pods = pods;
        this.listeners = listeners;
    }

    @Override
    public Map<String, List<Endpoint>> ready() {
        SharedIndexInformer<ServingWork> w = works.get();
        SharedIndexInformer<Pod> p = pods.get();
        Map<String, List<Endpoint>> out = new TreeMap<>();
        if (w == null || p == null) {
            return out;
        }
        Map<String, String> workByHash = new HashMap<>();
        for (ServingWork work : w.getStore().list()) {
            var ref = work.getSpec() == null ? null : work.getSpec().modelDeployment;
            if (ref == null || ref.namespace == null || ref.name == null) {
                continue;
            }
            workByHash.put(RemoteWorkRenderer.workHash(ref.namespace, ref.name), work.getMetadata().getName());
            out.put(work.getMetadata().getName(), new ArrayList<>());
        }
        for (Pod pod : p.getStore().list()) {
            String hash = pod.getMetadata().getLabels() == null ? null
                    : pod.getMetadata().getLabels().get(RemoteWorkRenderer.WORK_LABEL);
            String work = hash == null ? null : workByHash.get(hash);
            String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
            if (work != null && ip != null && !ip.isBlank() && ContributorAgent.ready(pod)) {
                out.get(work).add(new Endpoint(pod.getMetadata().getName(), ip, ServingRenderer.servingPort(pod)));
            }
        }
        out.values().forEach(list -> list.sort(Comparator.comparing(Endpoint::pod)));
        return out;
    }

    @Override
    public void onChange(Runnable listener) {
        listeners.add(listener);
    }
}
