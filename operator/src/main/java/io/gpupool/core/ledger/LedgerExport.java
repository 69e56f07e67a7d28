package io.gpupool.core.ledger;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.LedgerClass;
import io.gpupool.api.v1alpha1.LedgerDay;
import io.gpupool.api.v1alpha1.Organization;

/**
 * The per-day history of every Organization's ledger, for audit: one row per organization, UTC day and GpuClass with
 * its GPU-hours, and, for a day the gateway metered tokens, one row with an empty class and the tokens (the other
 * rows leave the token columns empty, so that every column sums); as CSV or JSON. Read from the Organizations'
 * status, where the operator checkpoints it.
 */
public final class LedgerExport {

    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    private static final String HEADER = "organization,day,gpu_class,contributed_gpu_hours,used_gpu_hours,"
            + "lent_gpu_hours,borrowed_gpu_hours,tokens_consumed,tokens_served";

    /** One row of the export: GPU-hours of a class, or (class "") the day's tokens; what it does not hold is null. */
    public record Row(String organization, String day, String gpuClass, Double contributedGpuHours,
            Double usedGpuHours, Double lentGpuHours, Double borrowedGpuHours, Long tokensConsumed,
            Long tokensServed) {
    }

    private LedgerExport() {
    }

    /** The rows, by organization, day and class. */
    public static List<Row> rows(List<Organization> organizations) {
        List<Row> out = new ArrayList<>();
        List<Organization> sorted = new ArrayList<>(organizations);
        sorted.sort(Comparator.comparing(o -> o.getMetadata().getName()));
        for (Organization org : sorted) {
            var ledger = org.getStatus() == null ? null : org.getStatus().ledger;
            if (ledger == null || ledger.days == null) {
                continue;
            }
            List<LedgerDay> days = new ArrayList<>(ledger.days);
            days.sort(Comparator.comparing(d -> d.day));
            for (LedgerDay d : days) {
                List<LedgerClass> classes = new ArrayList<>(d.classes);
                classes.sort(Comparator.comparing(c -> c.gpuClass));
                for (LedgerClass c : classes) {
                    out.add(new Row(org.getMetadata().getName(), d.day, c.gpuClass, z(c.contributedGpuHours),
                            z(c.usedGpuHours), z(c.lentGpuHours), z(c.borrowedGpuHours), null, null));
                }
                if (d.tokensConsumed != null || d.tokensServed != null) {
                    out.add(new Row(org.getMetadata().getName(), d.day, "", null, null, null, null,
                            d.tokensConsumed == null ? 0 : d.tokensConsumed, d.tokensServed == null ? 0 : d.tokensServed));
                }
            }
        }
        return out;
    }

    public static String csv(List<Organization> organizations) {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Row r : rows(organizations)) {
            sb.append(String.join(",", r.organization(), r.day(), r.gpuClass(), hours(r.contributedGpuHours()),
                    hours(r.usedGpuHours()), hours(r.lentGpuHours()), hours(r.borrowedGpuHours()),
                    count(r.tokensConsumed()), count(r.tokensServed()))).append('\n');
        }
        return sb.toString();
    }

    /** The rows as a JSON array of objects with the CSV's column names. */
    public static String json(List<Organization> organizations) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Row r : rows(organizations)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("organization", r.organization());
            m.put("day", r.day());
            m.put("gpu_class", r.gpuClass());
            m.put("contributed_gpu_hours", r.contributedGpuHours());
            m.put("used_gpu_hours", r.usedGpuHours());
            m.put("lent_gpu_hours", r.lentGpuHours());
            m.put("borrowed_gpu_hours", r.borrowedGpuHours());
            m.put("tokens_consumed", r.tokensConsumed());
            m.put("tokens_served", r.tokensServed());
            out.add(m);
        }
        return JSON.asJson(out) + "\n";
    }

    private static String hours(Double h) {
        return h == null ? "" : String.format(Locale.ROOT, "%.6f", h);
    }

    private static String count(Long n) {
        return n == null ? "" : Long.toString(n);
    }

    private static double z(Double d) {
        return d == null ? 0 : d;
    }
}
