package io.gpupool.playground;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ClassUsage;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.status.Conditions;

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
                        u.borrowed, u.lent, first && status.weightedShare != null
                                ? String.format(Locale.ROOT, "%.0f", status.weightedShare) : ""));
                first = false;
            }
        }
        out.append(String.format(Locale.ROOT, "%n   %-34s %-9s %7s %-44s %s%n", "MODELDEPLOYMENT", "PHASE", "READY",
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
                    : s.placements.stream().map(p -> p.node + "x" + p.replicas).collect(Collectors.joining(","));
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
            out.append(String.format(Locale.ROOT, "   %-34s %-9s %7s %-44s %s%n", name, s.phase, ready,
                    placement.length() > 44 ? placement.substring(0, 41) + "..." : placement,
                    why == null ? "" : why.length() > 110 ? why.substring(0, 107) + "..." : why));
        }
        return out.toString();
    }
}
