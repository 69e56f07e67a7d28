package io.gpupool.cluster;

import java.util.ArrayList;
import java.util.List;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;

/** The pod statuses the {@link SimulatedKubelet} reports, shaped as a real kubelet's. */
final class PodStatuses {

    private PodStatuses() {
    }

    private static String now() {
        return SimulatedKubelet.now();
    }

    static PodStatus running(Pod pod, String ip, boolean ready) {
        String now = now();
        String started = pod.getStatus() != null && pod.getStatus().getStartTime() != null ? pod.getStatus().getStartTime()
                : now;
        List<ContainerStatus> containers = new ArrayList<>();
        for (var c : pod.getSpec().getContainers()) {
            containers.add(new ContainerStatusBuilder().withName(c.getName()).withImage(c.getImage())
                    .withImageID("simulated://" + c.getImage()).withContainerID("simulated://" + pod.getMetadata().getUid()
                            + "/" + c.getName())
                    .withReady(ready).withStarted(true).withRestartCount(0)
                    .withNewState().withNewRunning().withStartedAt(started).endRunning().endState().build());
        }
        String r = ready ? "True" : "False";
        return new PodStatusBuilder().withPhase("Running").withHostIP(hostIp(pod)).withPodIP(ip)
                .withPodIPs(new PodIPBuilder().withIp(ip).build()).withStartTime(started).withQosClass(qos(pod))
                .withConditions(condition("Initialized", "True", now), condition("Ready", r, now),
                        condition("ContainersReady", r, now), condition("PodScheduled", "True", now))
                .withContainerStatuses(containers).build();
    }

    static PodStatus completed(Pod pod, String ip, int exitCode) {
        String now = now();
        List<ContainerStatus> containers = new ArrayList<>();
        for (var c : pod.getSpec().getContainers()) {
            containers.add(new ContainerStatusBuilder().withName(c.getName()).withImage(c.getImage())
                    .withImageID("simulated://" + c.getImage()).withReady(false).withStarted(false).withRestartCount(0)
                    .withNewState().withNewTerminated().withExitCode(exitCode)
                    .withReason(exitCode == 0 ? "Completed" : "Error").withFinishedAt(now)
                    .endTerminated().endState().build());
        }
        return new PodStatusBuilder().withPhase(exitCode == 0 ? "Succeeded" : "Failed").withHostIP(hostIp(pod)).withPodIP(ip)
                .withStartTime(pod.getStatus() == null ? now : pod.getStatus().getStartTime()).withQosClass(qos(pod))
                .withConditions(new PodConditionBuilder().withType("Initialized").withStatus("True")
                        .withReason("PodCompleted").withLastTransitionTime(now).build(),
                        new PodConditionBuilder().withType("Ready").withStatus("False").withReason("PodCompleted")
                                .withLastTransitionTime(now).build(),
                        new PodConditionBuilder().withType("ContainersReady").withStatus("False")
                                .withReason("PodCompleted").withLastTransitionTime(now).build(),
                        condition("PodScheduled", "True", now))
                .withContainerStatuses(containers).build();
    }

    private static PodCondition condition(String type, String status, String now) {
        return new PodConditionBuilder().withType(type).withStatus(status).withLastTransitionTime(now).build();
    }

    private static String hostIp(Pod pod) {
        // A stable address per node name, in TEST-NET-1's neighbour 172.18/16 (nothing answers there).
        int h = pod.getSpec().getNodeName().hashCode() & 0xffff;
        return "172.18." + (h >> 8) + "." + Math.max(1, h & 0xff);
    }

    private static String qos(Pod pod) {
        boolean any = pod.getSpec().getContainers().stream().anyMatch(c -> c.getResources() != null
                && ((c.getResources().getRequests() != null && !c.getResources().getRequests().isEmpty())
                        || (c.getResources().getLimits() != null && !c.getResources().getLimits().isEmpty())));
        return any ? "Burstable" : "BestEffort";
    }
}
