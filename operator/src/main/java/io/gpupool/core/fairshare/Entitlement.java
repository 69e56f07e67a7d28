package io.gpupool.core.fairshare;

/**
 * What each organization is entitled to of one GpuClass at one instant: a weighted max-min fair ("water-filling")
 * division of the class's capacity among the organizations that ask for it, each capped by what it asks for, on top
 * of a guaranteed floor (its nominal quota, up to its demand). It is the yardstick of the trace simulator's fairness
 * figure: equality of raw usage is not fairness when demands differ.
 *
 * <p>
 * The floors come first; if they add up to more than the capacity (a pool that promises more than it has), they are
 * scaled down in proportion. What is left is filled like water: every organization that still asks gets the same
 * amount per unit of weight, except those that ask for less, which get what they ask for, and the level rises until
 * the capacity is used or every demand is met. Organizations of weight 0 get only what everyone else leaves.
 */
public final class Entitlement {

    private Entitlement() {
    }

    /**
     * @param capacity GPUs of the class
     * @param demand   GPUs each organization asks for
     * @param floor    GPUs guaranteed to each (its nominal quota), counted only up to its demand
     * @param weight   each organization's fair-share weight
     * @return each organization's entitlement, never more than its demand, adding up to at most the capacity
     */
    public static double[] waterFill(double capacity, double[] demand, double[] floor, double[] weight) {
        int n = demand.length;
        double[] out = new double[n];
        double floors = 0;
        for (int i = 0; i < n; i++) {
            out[i] = Math.max(0, Math.min(floor[i], demand[i]));
            floors += out[i];
        }
        if (floors > capacity) {
            double scale = capacity <= 0 ? 0 : capacity / floors;
            for (int i = 0; i < n; i++) {
                out[i] *= scale;
            }
            return out;
        }
        double left = fill(capacity - floors, demand, out, weight, false);
        fill(left, demand, out, weight, true);
        return out;
    }

    /**
     * Raises the water level among organizations that still ask, of positive weight (or, with {@code zeroWeights}, of
     * weight 0, in equal parts).
     *
     * @return what is left of {@code water}
     */
    private static double fill(double water, double[] demand, double[] out, double[] weight, boolean zeroWeights) {
        int n = demand.length;
        boolean[] active = new boolean[n];
        double weights = 0;
        for (int i = 0; i < n; i++) {
            double w = zeroWeights ? (weight[i] <= 0 ? 1 : 0) : Math.max(0, weight[i]);
            active[i] = w > 0 && demand[i] - out[i] > 1e-12;
            weights += active[i] ? w : 0;
        }
        while (water > 1e-12 && weights > 0) {
            double level = water / weights;
            boolean saturated = false;
            for (int i = 0; i < n; i++) {
                double w = zeroWeights ? 1 : weight[i];
                if (active[i] && demand[i] - out[i] <= level * w + 1e-12) {
                    water -= demand[i] - out[i];
                    out[i] = demand[i];
                    active[i] = false;
                    weights -= w;
                    saturated = true;
                }
            }
            if (!saturated) {
                for (int i = 0; i < n; i++) {
                    if (active[i]) {
                        out[i] += level * (zeroWeights ? 1 : weight[i]);
                    }
                }
                return 0;
            }
        }
        return Math.max(0, water);
    }

    /**
     * Jain's index of the fractions received / entitled, each capped at 1: 1.0 when everyone gets the same fraction of
     * what it is entitled to (all of it, or, degenerately, none: the worst organization's fraction tells those apart);
     * NaN when nobody is entitled to anything.
     */
    public static double jain(double[] received, double[] entitled) {
        double sum = 0;
        double sq = 0;
        int n = 0;
        for (int i = 0; i < received.length; i++) {
            if (entitled[i] <= 0) {
                continue;
            }
            double x = Math.min(1, received[i] / entitled[i]);
            sum += x;
            sq += x * x;
            n++;
        }
        if (n == 0) {
            return Double.NaN;
        }
        return sq == 0 ? 1.0 : sum * sum / (n * sq);
    }
}
