package io.gpupool.operator.ledger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.gpupool.api.v1alpha1.ClassUsage;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationLedger;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.ledger.ContributionLedger;
import io.gpupool.core.ledger.GpuHours;
import io.gpupool.core.ledger.LedgerStatus;
import io.gpupool.core.ledger.OrgLedger;
import io.gpupool.core.ledger.Tokens;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.status.PoolReport;
import io.gpupool.operator.scheduling.PoolScheduler;
import io.gpupool.operator.scheduling.PoolView;

/**
 * The operator's contributor ledger: every admission cycle's figures (per organization and GpuClass, the GPUs
 * contributed, used, lent and borrowed) integrated over time on the operator's clock ({@link ContributionLedger}), and
 * checkpointed into each Organization's {@code status.ledger} by the status publisher, the only writer of that status.
 * On start it continues from those checkpoints, so a restart or a new leader neither loses nor counts twice the time
 * since the last one.
 */
@ApplicationScoped
public class PoolLedger {

    private static final Logger LOG = Logger.getLogger(PoolLedger.class);
    /** How often a checkpoint is written although nothing else in the Organization's status changed. */
    public static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(60);

    private final Clock clock;
    private ContributionLedger ledger;
    private int historyDays = -1;
    private Map<String, Double> classValues = Map.of();
    private double halfLifeHours;

    @Inject
    public PoolLedger(Clock clock) {
        this.clock = clock;
    }

    /**
     * Takes in the figures of a cycle (the scheduler tells of cycles once each, in order). An organization seen for the
     * first time continues from its checkpoint.
     */
    public synchronized void onCycle(PoolScheduler.CycleOutcome outcome, PoolView view) {
        var spec = view.pool().map(GpuPool::getSpec).orElse(null);
        int days = spec == null || spec.ledgerHistoryDays == null ? 92 : spec.ledgerHistoryDays;
        if (ledger == null) {
            ledger = new ContributionLedger(days);
            historyDays = days;
        } else if (days != historyDays) {
            ledger.historyDays(days);
            historyDays = days;
        }
        Map<String, Double> values = new HashMap<>();
        for (GpuClassDef c : outcome.snapshot().classes()) {
            values.put(c.name(), c.value());
        }
        classValues = values;
        halfLifeHours = PoolInputs.usageHalfLifeHours(spec);
        Map<String, Map<String, GpuHours>> rates = rates(outcome.report());
        rates.keySet().retainAll(restore(view));
        ledger.observe(outcome.at(), rates, values, halfLifeHours);
    }

    /**
     * Continues from its checkpoint every Organization the ledger sees for the first time, and returns the names of
     * all it can see. Only those are counted: an organization whose Organization the informer has not delivered yet
     * (a cycle can run before every cache of a starting operator is synced) would otherwise start afresh and its
     * checkpoint could no longer be taken in, losing the time since it.
     */
    private Set<String> restore(PoolView view) {
        Set<String> visible = new HashSet<>();
        int restored = 0;
        for (Organization org : view.organizations()) {
            String name = org.getMetadata().getName();
            visible.add(name);
            if (!ledger.organizations().contains(name)) {
                OrgLedger saved = org.getStatus() == null ? null : LedgerStatus.fromStatus(org.getStatus().ledger);
                if (saved != null && ledger.restore(name, saved)) {
                    restored++;
                }
            }
        }
        if (restored > 0) {
            LOG.infof("Contributor ledger continues from the checkpoints of %d organization(s)", restored);
        }
        return visible;
    }

    /** Per organization and class, the GPUs contributed, used, lent and borrowed now. */
    static Map<String, Map<String, GpuHours>> rates(PoolReport report) {
        Map<String, Map<String, GpuHours>> out = new TreeMap<>();
        report.organizations().forEach((org, totals) -> {
            Map<String, GpuHours> perClass = new TreeMap<>();
            for (ClassUsage u : totals.classes()) {
                GpuHours g = new GpuHours(u.contributed, u.used, u.lent, u.borrowed);
                if (!g.isZero()) {
                    perClass.put(u.gpuClass, g);
                }
            }
            out.put(org, perClass);
        });
        return out;
    }

    /**
     * What an Organization's {@code status.ledger} should be now: a fresh checkpoint when one is due (the last one is
     * older than a minute, from another UTC day, or the GPUs counted changed), else the one it has, so that a status
     * that did not change otherwise costs no write.
     *
     * @param written the ledger in the Organization's status now, or null
     * @return null when the ledger has not counted the organization yet
     */
    public synchronized OrganizationLedger statusFor(String org, OrganizationLedger written) {
        if (ledger == null || !ledger.organizations().contains(org)) {
            return written;
        }
        Instant now = clock.instant();
        ledger.advanceTo(now);
        OrgLedger current = ledger.checkpoint(org);
        if (written != null && !due(written, current, now)) {
            return written;
        }
        return LedgerStatus.toStatus(current, classValues, halfLifeHours > 0);
    }

    private static boolean due(OrganizationLedger written, OrgLedger current, Instant now) {
        Instant at;
        try {
            at = written.checkpointTime == null ? null : Instant.parse(written.checkpointTime);
        } catch (DateTimeParseException e) {
            at = null;
        }
        if (at == null || !at.plus(CHECKPOINT_INTERVAL).isAfter(now)
                || !LocalDate.ofInstant(at, ZoneOffset.UTC).equals(LocalDate.ofInstant(now, ZoneOffset.UTC))) {
            return true;
        }
        OrgLedger before = LedgerStatus.fromStatus(written);
        return before == null || !Objects.equals(before.rates(), current.rates());
    }

    /**
     * Takes in the gateway's token totals from the Organizations' status.usage, before their checkpoints are written
     * ({@link Tokens#fromUsage}); organizations the ledger does not count yet are left for later.
     */
    public synchronized void takeTokens(PoolView view) {
        if (ledger == null) {
            return;
        }
        Instant now = clock.instant();
        Tokens.fromUsage(view.organizations(), view.contributedClusters())
                .forEach((org, total) -> ledger.tokens(org, now, total));
    }

    /** An organization's GPU-hours of one kind in one class up to now (for the Prometheus counters). */
    public synchronized double gpuHours(String org, String gpuClass, Kind kind) {
        if (ledger == null) {
            return 0;
        }
        GpuHours h = ledger.totalAt(org, gpuClass, clock.instant());
        return switch (kind) {
            case CONTRIBUTED -> h.contributed();
            case USED -> h.used();
            case LENT -> h.lent();
            case BORROWED -> h.borrowed();
        };
    }

    /** Every organization's decayed net usage now (value-weighted GPU-hours), for fairness with memory. */
    public synchronized Map<String, Double> decayedNetUsage() {
        Map<String, Double> out = new HashMap<>();
        if (ledger != null && halfLifeHours > 0) {
            Instant now = clock.instant();
            ledger.organizations().forEach(o -> out.put(o, ledger.decayedNetAt(o, now)));
        }
        return out;
    }

    /** The four figures, as Prometheus label values. */
    public enum Kind {
        CONTRIBUTED, USED, LENT, BORROWED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
