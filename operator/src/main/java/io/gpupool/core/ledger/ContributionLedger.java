package io.gpupool.core.ledger;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What every organization gave and used, per GpuClass, in GPU-hours: the integral over time of the figures each
 * admission cycle leaves in force (contributed, used, lent, borrowed GPUs), on the caller's clock. Between two cycles
 * nothing changes, so the integral is exact: {@link #observe} integrates up to the cycle's time with the figures in
 * force until then, and puts the cycle's figures in force.
 *
 * <p>
 * A checkpoint ({@link #checkpoint}) holds the totals integrated up to an instant together with the figures in force
 * from it; {@link #restore} continues from there, so an operator that restarts, or another one that takes over,
 * integrates the interval since the last checkpoint once: nothing is lost (the figures in force are known) and
 * nothing is counted twice (the totals stop at the checkpoint). Each organization has its own checkpoint.
 *
 * <p>
 * Per UTC day the same figures are kept for the most recent {@code historyDays} days (an interval that spans midnight
 * is split). With a usage half-life, each organization's decayed net usage (value-weighted GPU-hours used minus
 * contributed, halved every half-life) is kept too: the memory of fairness with memory.
 *
 * <p>
 * Not thread-safe.
 */
public final class ContributionLedger {

    private static final double LN2 = Math.log(2);

    private int historyDays;
    private final Map<String, Book> books = new TreeMap<>();
    private Map<String, Double> classValues = Map.of();
    private double halfLifeHours;

    /** One organization's running ledger. */
    private static final class Book {
        Instant since;
        Instant at;
        final Map<String, GpuHours> totals = new TreeMap<>();
        Map<String, GpuHours> rates = Map.of();
        final TreeMap<LocalDate, Map<String, GpuHours>> days = new TreeMap<>();
        double decayedNet;
        Tokens tokens = Tokens.ZERO;
        final TreeMap<LocalDate, Tokens> tokenDays = new TreeMap<>();
    }

    /** @param historyDays how many UTC days of history each organization keeps (at least 1) */
    public ContributionLedger(int historyDays) {
        this.historyDays = Math.max(1, historyDays);
    }

    /** Keeps this many UTC days of history from the next advance on. */
    public void historyDays(int days) {
        this.historyDays = Math.max(1, days);
    }

    /**
     * The figures of a cycle at {@code now}: integrates every organization up to {@code now} with the figures in force,
     * then puts these in force. Organizations absent from {@code rates} have nothing in force from now on (they stay in
     * the ledger).
     *
     * @param rates        per organization and GpuClass, the GPUs contributed, used, lent and borrowed now
     * @param classValues  each GpuClass's value (weights the decayed net usage)
     * @param halfLifeHours the pool's usage half-life; 0: no decayed usage is kept
     */
    public void observe(Instant now, Map<String, Map<String, GpuHours>> rates, Map<String, Double> classValues,
            double halfLifeHours) {
        advanceTo(now);
        this.classValues = Map.copyOf(classValues);
        this.halfLifeHours = Math.max(0, halfLifeHours);
        for (Map.Entry<String, Map<String, GpuHours>> e : rates.entrySet()) {
            book(e.getKey(), now).rates = Map.copyOf(e.getValue());
        }
        for (Map.Entry<String, Book> e : books.entrySet()) {
            if (!rates.containsKey(e.getKey())) {
                e.getValue().rates = Map.of();
            }
        }
    }

    /** Integrates every organization up to {@code now} with the figures in force (nothing for a time in the past). */
    public void advanceTo(Instant now) {
        for (Book b : books.values()) {
            advance(b, now);
        }
    }

    /** The organizations the ledger knows. */
    public Set<String> organizations() {
        return Collections.unmodifiableSet(books.keySet());
    }

    /** An organization's ledger as it is now (integrated up to its own last advance), or null. */
    public OrgLedger checkpoint(String org) {
        Book b = books.get(org);
        if (b == null) {
            return null;
        }
        SortedMap<LocalDate, Map<String, GpuHours>> days = new TreeMap<>();
        b.days.forEach((d, m) -> days.put(d, Map.copyOf(m)));
        return new OrgLedger(b.since, b.at, Map.copyOf(b.totals), b.rates, Collections.unmodifiableSortedMap(days),
                b.decayedNet, b.tokens, Collections.unmodifiableSortedMap(new TreeMap<>(b.tokenDays)));
    }

    /**
     * Continues an organization's ledger from a checkpoint (read back after a restart): its totals, history and decayed
     * usage are taken as they are, and the figures in force from the checkpoint on are integrated by the next
     * {@link #advanceTo}. An organization the ledger already counts is not replaced (this operator's own figures are
     * newer than any it wrote).
     *
     * @return whether it was restored
     */
    public boolean restore(String org, OrgLedger saved) {
        if (books.containsKey(org) || saved == null || saved.checkpoint() == null) {
            return false;
        }
        Book b = new Book();
        b.since = saved.since() == null ? saved.checkpoint() : saved.since();
        b.at = saved.checkpoint();
        b.totals.putAll(saved.totals());
        b.rates = Map.copyOf(saved.rates());
        saved.days().forEach((d, m) -> b.days.put(d, new TreeMap<>(m)));
        b.decayedNet = saved.decayedNet();
        b.tokens = saved.tokens() == null ? Tokens.ZERO : saved.tokens();
        if (saved.tokenDays() != null) {
            b.tokenDays.putAll(saved.tokenDays());
        }
        books.put(org, b);
        return true;
    }

    /**
     * Takes in the gateway's token totals of a known organization, as they are at {@code now} (they are durable sums
     * of its reports, so they are read, not integrated): what they grew by since they were last taken in is added to
     * the UTC day of {@code now}. A checkpoint keeps the totals, so after a restart only the growth since it is
     * attributed, to the day the new operator first sees it.
     */
    public void tokens(String org, Instant now, Tokens total) {
        Book b = books.get(org);
        if (b == null) {
            return;
        }
        Tokens added = total.since(b.tokens);
        b.tokens = total;
        LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
        if (!added.isZero()) {
            b.tokenDays.merge(today, added, Tokens::plus);
        }
        b.tokenDays.headMap(today.minusDays(historyDays - 1L)).clear();
    }

    /** What the totals of an organization's class would be at {@code now}, without advancing the ledger. */
    public GpuHours totalAt(String org, String gpuClass, Instant now) {
        Book b = books.get(org);
        if (b == null) {
            return GpuHours.ZERO;
        }
        GpuHours total = b.totals.getOrDefault(gpuClass, GpuHours.ZERO);
        GpuHours rate = b.rates.get(gpuClass);
        if (rate == null || !now.isAfter(b.at)) {
            return total;
        }
        return total.plus(rate.times(hours(b.at, now)));
    }

    /** An organization's decayed net usage (value-weighted GPU-hours) at {@code now}, without advancing. */
    public double decayedNetAt(String org, Instant now) {
        Book b = books.get(org);
        if (b == null) {
            return 0;
        }
        return decay(b.decayedNet, netRate(b.rates), now.isAfter(b.at) ? hours(b.at, now) : 0);
    }

    private Book book(String org, Instant now) {
        return books.computeIfAbsent(org, o -> {
            Book b = new Book();
            b.since = now;
            b.at = now;
            return b;
        });
    }

    private void advance(Book b, Instant now) {
        if (!now.isAfter(b.at)) {
            return;
        }
        double dt = hours(b.at, now);
        b.decayedNet = decay(b.decayedNet, netRate(b.rates), dt);
        if (!b.rates.isEmpty()) {
            b.rates.forEach((cls, rate) -> b.totals.merge(cls, rate.times(dt), GpuHours::plus));
            // Per UTC day: split the interval at every midnight it spans.
            Instant from = b.at;
            while (from.isBefore(now)) {
                LocalDate day = LocalDate.ofInstant(from, ZoneOffset.UTC);
                Instant midnight = day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
                Instant to = midnight.isBefore(now) ? midnight : now;
                double h = hours(from, to);
                Map<String, GpuHours> bucket = b.days.computeIfAbsent(day, d -> new TreeMap<>());
                b.rates.forEach((cls, rate) -> bucket.merge(cls, rate.times(h), GpuHours::plus));
                from = to;
            }
        }
        b.at = now;
        LocalDate oldest = LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(historyDays - 1L);
        b.days.headMap(oldest).clear();
        b.tokenDays.headMap(oldest).clear();
    }

    /** Value-weighted GPUs used minus contributed. */
    private double netRate(Map<String, GpuHours> rates) {
        double net = 0;
        for (Map.Entry<String, GpuHours> e : rates.entrySet()) {
            double v = classValues.getOrDefault(e.getKey(), 1.0);
            net += v * (e.getValue().used() - e.getValue().contributed());
        }
        return net;
    }

    /**
     * Exponential decay with the half-life, integrating a constant rate meanwhile: what was accumulated halves every
     * half-life, and {@code rate} GPUs for {@code dt} hours add {@code rate · τ/ln2 · (1 − 2^(−dt/τ))}.
     */
    private double decay(double value, double rate, double dt) {
        if (halfLifeHours <= 0) {
            return 0;
        }
        double keep = Math.pow(2, -dt / halfLifeHours);
        return value * keep + rate * halfLifeHours / LN2 * (1 - keep);
    }

    private static double hours(Instant from, Instant to) {
        return Duration.between(from, to).toNanos() / 3.6e12;
    }

    /** For tests and printing: every organization's checkpoint. */
    public Map<String, OrgLedger> checkpoints() {
        Map<String, OrgLedger> out = new HashMap<>();
        books.keySet().forEach(o -> out.put(o, checkpoint(o)));
        return out;
    }
}
