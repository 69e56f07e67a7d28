package io.gpupool.core.ledger;

import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;
import java.util.SortedMap;

/**
 * One organization's ledger at a checkpoint: everything needed to resume it exactly, and to print it.
 *
 * @param since       when the ledger started counting for the organization
 * @param checkpoint  the totals are integrated up to this instant, no further
 * @param totals      GPU-hours per GpuClass since {@code since}
 * @param rates       GPUs per GpuClass in force from {@code checkpoint} on (the last cycle's figures)
 * @param days        GPU-hours per UTC day and GpuClass, the most recent days only
 * @param decayedNet  value-weighted GPU-hours used minus contributed, decayed with the pool's usage half-life (0 when
 *                    it is off)
 * @param tokens      the gateway's token totals when they were last taken in ({@link ContributionLedger#tokens})
 * @param tokenDays   what each UTC day added to them, the most recent days only
 */
public record OrgLedger(Instant since, Instant checkpoint, Map<String, GpuHours> totals, Map<String, GpuHours> rates,
        SortedMap<LocalDate, Map<String, GpuHours>> days, double decayedNet, Tokens tokens,
        SortedMap<LocalDate, Tokens> tokenDays) {

    /** A ledger without tokens (no gateway). */
    public OrgLedger(Instant since, Instant checkpoint, Map<String, GpuHours> totals, Map<String, GpuHours> rates,
            SortedMap<LocalDate, Map<String, GpuHours>> days, double decayedNet) {
        this(since, checkpoint, totals, rates, days, decayedNet, Tokens.ZERO, new java.util.TreeMap<>());
    }
}
