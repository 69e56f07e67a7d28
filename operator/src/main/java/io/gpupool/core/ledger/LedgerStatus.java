package io.gpupool.core.ledger;

import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import io.gpupool.api.v1alpha1.LedgerClass;
import io.gpupool.api.v1alpha1.LedgerDay;
import io.gpupool.api.v1alpha1.OrganizationLedger;

/** An organization's ledger as the Organization status shows it ({@code status.ledger}), and back. */
public final class LedgerStatus {

    private LedgerStatus() {
    }

    /**
     * @param classValues each GpuClass's value, for the value-weighted totals
     */
    public static OrganizationLedger toStatus(OrgLedger l, Map<String, Double> classValues, boolean withDecayedUsage) {
        OrganizationLedger out = new OrganizationLedger();
        out.since = l.since().toString();
        out.checkpointTime = l.checkpoint().toString();
        double contributed = 0;
        double used = 0;
        TreeMap<String, LedgerClass> classes = new TreeMap<>();
        for (Map.Entry<String, GpuHours> e : l.totals().entrySet()) {
            double v = classValues.getOrDefault(e.getKey(), 1.0);
            contributed += v * e.getValue().contributed();
            used += v * e.getValue().used();
            LedgerClass c = classes.computeIfAbsent(e.getKey(), LedgerStatus::named);
            hours(c, e.getValue());
        }
        for (Map.Entry<String, GpuHours> e : l.rates().entrySet()) {
            LedgerClass c = classes.computeIfAbsent(e.getKey(), LedgerStatus::named);
            if (c.contributedGpuHours == null) {
                hours(c, GpuHours.ZERO);
            }
            c.contributedGpus = e.getValue().contributed();
            c.usedGpus = e.getValue().used();
            c.lentGpus = e.getValue().lent();
            c.borrowedGpus = e.getValue().borrowed();
        }
        out.classes = new ArrayList<>(classes.values());
        out.contributedGpuHours = round(contributed);
        out.usedGpuHours = round(used);
        out.balanceGpuHours = round(contributed - used);
        out.decayedNetUsageGpuHours = withDecayedUsage ? round(l.decayedNet()) : null;
        boolean metered = !l.tokens().isZero();
        out.tokensConsumed = metered ? l.tokens().consumed() : null;
        out.tokensServed = metered ? l.tokens().served() : null;
        TreeMap<LocalDate, LedgerDay> days = new TreeMap<>();
        for (Map.Entry<LocalDate, Map<String, GpuHours>> d : l.days().entrySet()) {
            LedgerDay day = days.computeIfAbsent(d.getKey(), LedgerStatus::day);
            new TreeMap<>(d.getValue()).forEach((cls, h) -> {
                LedgerClass c = named(cls);
                hours(c, h);
                day.classes.add(c);
            });
        }
        l.tokenDays().forEach((d, t) -> {
            LedgerDay day = days.computeIfAbsent(d, LedgerStatus::day);
            day.tokensConsumed = t.consumed();
            day.tokensServed = t.served();
        });
        out.days.addAll(days.values());
        return out;
    }

    /** The ledger to continue from, or null when the status holds none that can be resumed. */
    public static OrgLedger fromStatus(OrganizationLedger s) {
        if (s == null) {
            return null;
        }
        Instant checkpoint = instant(s.checkpointTime);
        if (checkpoint == null) {
            return null;
        }
        Map<String, GpuHours> totals = new TreeMap<>();
        Map<String, GpuHours> rates = new TreeMap<>();
        for (LedgerClass c : s.classes == null ? List.<LedgerClass> of() : s.classes) {
            if (c == null || c.gpuClass == null) {
                continue;
            }
            totals.put(c.gpuClass, new GpuHours(z(c.contributedGpuHours), z(c.usedGpuHours), z(c.lentGpuHours),
                    z(c.borrowedGpuHours)));
            GpuHours rate = new GpuHours(z(c.contributedGpus), z(c.usedGpus), z(c.lentGpus), z(c.borrowedGpus));
            if (!rate.isZero()) {
                rates.put(c.gpuClass, rate);
            }
        }
        SortedMap<LocalDate, Map<String, GpuHours>> days = new TreeMap<>();
        SortedMap<LocalDate, Tokens> tokenDays = new TreeMap<>();
        for (LedgerDay d : s.days == null ? List.<LedgerDay> of() : s.days) {
            LocalDate day;
            try {
                day = d == null || d.day == null ? null : LocalDate.parse(d.day);
            } catch (DateTimeParseException e) {
                day = null;
            }
            if (day == null) {
                continue;
            }
            Map<String, GpuHours> m = new TreeMap<>();
            for (LedgerClass c : d.classes == null ? List.<LedgerClass> of() : d.classes) {
                if (c != null && c.gpuClass != null) {
                    m.put(c.gpuClass, new GpuHours(z(c.contributedGpuHours), z(c.usedGpuHours), z(c.lentGpuHours),
                            z(c.borrowedGpuHours)));
                }
            }
            days.put(day, m);
            if (d.tokensConsumed != null || d.tokensServed != null) {
                tokenDays.put(day, new Tokens(n(d.tokensConsumed), n(d.tokensServed)));
            }
        }
        Instant since = instant(s.since);
        return new OrgLedger(since == null ? checkpoint : since, checkpoint, totals, rates, days,
                z(s.decayedNetUsageGpuHours), new Tokens(n(s.tokensConsumed), n(s.tokensServed)), tokenDays);
    }

    private static LedgerDay day(LocalDate d) {
        LedgerDay day = new LedgerDay();
        day.day = d.toString();
        return day;
    }

    private static long n(Long v) {
        return v == null ? 0 : Math.max(0, v);
    }

    private static LedgerClass named(String gpuClass) {
        LedgerClass c = new LedgerClass();
        c.gpuClass = gpuClass;
        return c;
    }

    private static void hours(LedgerClass c, GpuHours h) {
        c.contributedGpuHours = h.contributed();
        c.usedGpuHours = h.used();
        c.lentGpuHours = h.lent();
        c.borrowedGpuHours = h.borrowed();
    }

    /** For the printed totals: 0.01 GPU-hour is 36 GPU-seconds. The per-class figures keep every digit. */
    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static double z(Double d) {
        return d == null || d.isNaN() ? 0 : d;
    }

    private static Instant instant(String s) {
        try {
            return s == null ? null : Instant.parse(s);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
