package io.gpupool.sim;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.gpupool.core.fairshare.Entitlement;

/**
 * The fairness figure of one policy on one trace: at every instant of contention (some GpuClass asked for more than
 * it has), each organization's entitlement per class is its weighted max-min fair share of the class given what it
 * asks for, on top of what it contributes there (the pool's promise: {@link Entitlement#waterFill}); what it received
 * is what its replicas hold. Per instant, Jain's index of {@code min(1, received / entitled)} over the organizations
 * entitled to something (both sides weighted by GpuClass value); reported as its average over contended time, next
 * to each organization's average fraction and the worst of them.
 */
final class FairnessMeter {

    private double contendedSeconds;
    private double jainSeconds;
    private final Map<String, double[]> fractionSeconds = new TreeMap<>();

    /**
     * One interval in which nothing changes.
     *
     * @param orgs        organizations, indexing the arrays
     * @param value       each class's value
     * @param capacity    schedulable GPUs per class
     * @param demand      GPUs each organization asks for per class [org][class]
     * @param contributed GPUs each organization contributes per class [org][class]
     * @param held        GPUs its replicas hold per class [org][class]
     */
    void interval(long seconds, List<String> orgs, double[] value, double[] capacity, double[][] demand,
            double[][] contributed, double[][] held) {
        if (seconds <= 0 || orgs.isEmpty()) {
            return;
        }
        int no = orgs.size();
        int nc = capacity.length;
        boolean contended = false;
        double[] entitled = new double[no];
        double[] received = new double[no];
        double[] weight = new double[no];
        java.util.Arrays.fill(weight, 1.0);
        for (int c = 0; c < nc; c++) {
            double[] d = new double[no];
            double[] floor = new double[no];
            double asked = 0;
            for (int o = 0; o < no; o++) {
                d[o] = demand[o][c];
                floor[o] = contributed[o][c];
                asked += d[o];
            }
            contended |= asked > capacity[c];
            double[] share = Entitlement.waterFill(capacity[c], d, floor, weight);
            for (int o = 0; o < no; o++) {
                entitled[o] += value[c] * share[o];
                received[o] += value[c] * held[o][c];
            }
        }
        if (!contended) {
            return;
        }
        double j = Entitlement.jain(received, entitled);
        if (Double.isNaN(j)) {
            return;
        }
        contendedSeconds += seconds;
        jainSeconds += j * seconds;
        for (int o = 0; o < no; o++) {
            if (entitled[o] > 0) {
                double[] f = fractionSeconds.computeIfAbsent(orgs.get(o), k -> new double[2]);
                f[0] += Math.min(1, received[o] / entitled[o]) * seconds;
                f[1] += seconds;
            }
        }
    }

    /** Time-averaged Jain's index of received / entitled over contended time; NaN without contention. */
    double jain() {
        return contendedSeconds == 0 ? Double.NaN : jainSeconds / contendedSeconds;
    }

    /** Seconds in which some class was asked for more than it has. */
    double contendedSeconds() {
        return contendedSeconds;
    }

    /** Each organization's average fraction received / entitled (capped at 1) while it was entitled to something. */
    Map<String, Double> fractions() {
        Map<String, Double> out = new TreeMap<>();
        fractionSeconds.forEach((org, f) -> out.put(org, f[0] / f[1]));
        return out;
    }

    /** The worst organization's average fraction, or NaN. */
    double worst() {
        return fractions().values().stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    /** The organization with the worst average fraction, or null. */
    String worstOrganization() {
        return fractions().entrySet().stream().min(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
    }
}
