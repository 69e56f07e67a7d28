package io.gpupool.core.admission.preemption;

import java.util.Comparator;

import io.gpupool.core.model.Workload;

/**
 * The one order in which replicas are evicted, most evictable first (Kueue's {@code CandidatesOrdering}): elastic
 * replicas (an autoscaled model's above its minReplicas) before all others, then other
 * organizations' replicas before the preemptor's own, then the highest weighted share of their organization, then the
 * lowest priority, then the newest, then the name. Victims are sorted by it, plans are compared by their least
 * evictable victim in it, and replicas that cannot beat a plan are skipped by it.
 */
public final class VictimOrder {

    public static final Comparator<Candidate> ORDER = (x, y) -> x.elastic() != y.elastic() ? (x.elastic() ? -1 : 1)
            : compare(x.own(), x.orgShare(), x.w(), y.own(), y.orgShare(), y.w());

    private VictimOrder() {
    }

    /**
     * The order on the fields that decide it, so that a replica can be placed in it without making a candidate.
     *
     * @return negative when replica {@code a} is more evictable than {@code b}
     */
    public static int compare(boolean ownA, double shareA, Workload a, boolean ownB, double shareB, Workload b) {
        if (ownA != ownB) {
            return ownA ? 1 : -1;
        }
        int c = Double.compare(shareB, shareA);
        if (c == 0) {
            c = Integer.compare(a.priority(), b.priority());
        }
        if (c == 0) {
            c = Long.compare(b.arrival(), a.arrival());
        }
        return c != 0 ? c : a.id().compareTo(b.id());
    }

    /** Whether a replica of {@code w} would come after {@code bar} in the order (it cannot make a better plan). */
    public static boolean after(boolean own, double orgShare, Workload w, Candidate bar) {
        return after(false, own, orgShare, w, bar);
    }

    /** The same, for a replica that may be elastic. */
    public static boolean after(boolean elastic, boolean own, double orgShare, Workload w, Candidate bar) {
        if (elastic != bar.elastic()) {
            return bar.elastic();
        }
        return compare(own, orgShare, w, bar.own(), bar.orgShare(), bar.w()) > 0;
    }
}
