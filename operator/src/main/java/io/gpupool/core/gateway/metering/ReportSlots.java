package io.gpupool.core.gateway.metering;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.api.v1alpha1.GatewayReportSpec;
import io.gpupool.core.inventory.PoolInputs;

/**
 * Which report slot a gateway process writes: one it holds, else one whose holder let its lease lapse (it stopped),
 * else a new one with the smallest free number. Slots are never deleted and never reset, so the operator's totals are
 * the plain sum over them, and their number stays that of the gateway processes that ran at the same time.
 */
public final class ReportSlots {

    public static final Duration LEASE = Duration.ofSeconds(60);

    private ReportSlots() {
    }

    /** The name of slot {@code n} of a gateway. */
    public static String name(String gateway, int n) {
        return gateway + "-" + n;
    }

    /** A slot this holder may take now: its own, or one whose lease lapsed (the oldest renewal first). */
    public static Optional<GatewayReport> takeable(Collection<GatewayReport> slots, String gateway, String holder,
            Instant now) {
        GatewayReport best = null;
        Instant bestRenew = null;
        for (GatewayReport r : slots) {
            if (!r.getMetadata().getName().startsWith(gateway + "-")) {
                continue;
            }
            GatewayReportSpec s = r.getSpec();
            if (s != null && holder.equals(s.holder)) {
                return Optional.of(r);
            }
            Instant renewed = s == null ? null : PoolInputs.parseTime(s.renewTime);
            if (lapsed(s, now) && (best == null || (renewed != null && (bestRenew == null || renewed.isBefore(bestRenew))))) {
                best = r;
                bestRenew = renewed;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Whether nobody holds the slot any more. */
    public static boolean lapsed(GatewayReportSpec spec, Instant now) {
        if (spec == null || spec.holder == null || spec.holder.isEmpty()) {
            return true;
        }
        Instant renewed = PoolInputs.parseTime(spec.renewTime);
        int lease = spec.leaseDurationSeconds == null ? (int) LEASE.toSeconds() : spec.leaseDurationSeconds;
        return renewed == null || !renewed.plusSeconds(lease).isAfter(now);
    }

    /** The smallest slot number not used yet. */
    public static String newName(Collection<GatewayReport> slots, String gateway) {
        Set<String> taken = new HashSet<>();
        slots.forEach(r -> taken.add(r.getMetadata().getName()));
        int n = 0;
        while (taken.contains(name(gateway, n))) {
            n++;
        }
        return name(gateway, n);
    }
}
