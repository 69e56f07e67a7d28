package io.gpupool.playground;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ClassUsage;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuNodeStatus;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.status.Conditions;
import io.gpupool.operator.node.LocalNodeReconciler;

/** The tables a person reads at a glance, built from the objects' status only (what kubectl would show). */
final class PoolTable {

    private final KubernetesClient client;

    PoolTable(KubernetesClient client) {
        this.client = client;
    }

    String render() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%n   %-16s %-12s %12s %8s %6s %9s %6s %7s%n", "ORGANIZATION", "CLASS",
                "CONTRIBUTED", "NOMINAL", "USED", "BORROWED", "LENT", "SHARE"));
        List<Organization> orgs = client.resources(Organization.class).list().getItems().stream()
                .sorted(Comparator.comparing(o -> o.getMetadata().getName())).toList();
        for (Organization org : orgs) {
            var status = org.getStatus();
            if (status == null || status.classes == null || status.classes.isEmpty()) {
                out.append(String.format(Locale.ROOT, "   %-16s %-12s%n", org.getMetadata().getName(), "-"));
                continue;
            }
            boolean first = true;
            for (ClassUsage u : status.classes) {
                if (u.contributed + u.nominal + u.used + u.borrowed + u.lent + u.pending == 0) {
                    continue; // a class the organization has nothing to do with
                }
                out.append(String.format(Locale.ROOT, "   %-16s %-12s %12d %8d %6d %9d %6d %7s%n",
                        first ? org.getMetadata().getName() : "", u.gpuClass, u.contributed, u.nominal, u.used,
                        u.borrowed, u.lent, first && status.weightedShare != null ? status.weightedShare : ""));
                first = false;
            }
        }
        renderNodes(out);
        out.append(String.format(Locale.ROOT, "%n   %-34s %-9s %7s %-50s %s%n", "MODELDEPLOYMENT", "PHASE", "READY",
                "PLACEMENT", "WHY / ENDPOINT"));
        List<ModelDeployment> mds = client.resources(ModelDeployment.class).inAnyNamespace().list().getItems().stream()
                .sorted(Comparator.comparing((ModelDeployment m) -> m.getMetadata().getNamespace())
                        .thenComparing(m -> m.getMetadata().getName()))
                .toList();
        for (ModelDeployment md : mds) {
            var s = md.getStatus();
            String name = md.getMetadata().getNamespace() + "/" + md.getMetadata().getName();
            if (s == null) {
                out.append(String.format(Locale.ROOT, "   %-34s %-9s%n", name, "-"));
                continue;
            }
            String ready = s.replicas == null ? "-" : s.replicas.ready + "/" + s.replicas.desired;
            String placement = s.placements == null || s.placements.isEmpty() ? "-"
                    : s.placements.stream().map(p -> p.cluster + "/" + p.node + "x" + p.replicas).collect(Collectors.joining(","));
            String why = Conditions.find(s.conditions, Conditions.PREEMPTED).map(c -> "Preempted: " + c.getMessage())
                    .orElse(null);
            if (why == null && !"Running".equals(s.phase)) {
                why = Conditions.find(s.conditions, Conditions.ADMITTED)
                        .filter(c -> !"Admitted".equals(c.getReason()))
                        .map(c -> c.getReason() + ": " + c.getMessage()).orElse(null);
            }
            if (why == null) {
                why = s.endpoint;
            }
            out.append(String.format(Locale.ROOT, "   %-34s %-9s %7s %-50s %s%n", name, s.phase, ready,
                    placement.length() > 50 ? placement.substring(0, 47) + "..." : placement,
                    why == null ? "" : why.length() > 110 ? why.substring(0, 107) + "..." : why));
        }
        return out.toString();
    }

    /**
     * Every GpuNode: the pool's own labelled Nodes (cluster local) and those a contributed cluster's agent registered,
     * with the pool's verdict (Ready reason) and whether the agent's heartbeat is on time (nothing to beat for local
     * nodes: the operator reads them itself).
     */
    private void renderNodes(StringBuilder out) {
        out.append(String.format(Locale.ROOT, "%n   %-10s %-16s %-16s %-9s %5s %5s  %-17s %s%n", "CLUSTER", "NODE",
                "ORGANIZATION", "CLASS", "GPUS", "USED", "READY", "HEARTBEAT"));
        List<GpuNode> nodes = client.resources(GpuNode.class).inAnyNamespace().list().getItems().stream()
                .sorted(Comparator.comparing((GpuNode n) -> !LocalNodeReconciler.LOCAL_CLUSTER.equals(n.getSpec().cluster))
                        .thenComparing(n -> n.getSpec().cluster).thenComparing(n -> n.getSpec().nodeName))
                .toList();
        for (GpuNode n : nodes) {
            GpuNodeStatus s = n.getStatus();
            String ready = s == null ? "-" : Conditions.find(s.conditions, Conditions.READY)
                    .map(c -> c.getReason()).orElse("-");
            String heartbeat;
            if (LocalNodeReconciler.LOCAL_CLUSTER.equals(n.getSpec().cluster)) {
                heartbeat = "-";
            } else if (s == null || s.lastHeartbeatTime == null) {
                heartbeat = "none yet";
            } else {
                heartbeat = "HeartbeatExpired".equals(ready) ? "expired" : "on time";
            }
            out.append(String.format(Locale.ROOT, "   %-10s %-16s %-16s %-9s %5s %5s  %-17s %s%n", n.getSpec().cluster,
                    n.getSpec().nodeName, n.getSpec().organization, s == null || s.gpuClass == null ? "-" : s.gpuClass,
                    String.valueOf(n.getSpec().gpu.count), s == null || s.allocated == null ? "-" : s.allocated.toString(), ready,
                    heartbeat));
        }
    }
}
