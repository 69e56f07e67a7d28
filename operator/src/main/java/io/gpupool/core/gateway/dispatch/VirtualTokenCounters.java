package io.gpupool.core.gateway.dispatch;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Virtual token counters of VTC (Sheng et al., "Fairness in Serving Large Language Models", OSDI 2024): each
 * organization's service so far, in tokens divided by its weight. The next request served comes from the backlogged
 * organization with the smallest counter. An organization that becomes backlogged has its counter lifted to the
 * smallest counter among the backlogged ones (or, when none is, to the counter of the last one that stopped being
 * backlogged), so being idle earns no credit to spend later.
 */
final class VirtualTokenCounters {

    private final Map<String, Double> counters = new HashMap<>();
    private double lastLeft;

    double of(String organization) {
        return counters.getOrDefault(organization, 0.0);
    }

    /** The organization becomes backlogged; {@code backlogged} are the others that are. */
    void enter(String organization, Set<String> backlogged) {
        double floor;
        if (backlogged.isEmpty()) {
            floor = lastLeft;
        } else {
            floor = Double.MAX_VALUE;
            for (String o : backlogged) {
                floor = Math.min(floor, of(o));
            }
        }
        counters.put(organization, Math.max(of(organization), floor));
    }

    /** The organization has nothing waiting any more. */
    void leave(String organization) {
        lastLeft = of(organization);
    }

    /** Charges (or, negative, refunds) tokens to an organization, divided by its weight. */
    void charge(String organization, double tokens, double weight) {
        counters.put(organization, of(organization) + tokens / Math.max(weight, 0.01));
    }

    /** Drops organizations that have neither waiting nor running requests, so the map does not grow for ever. */
    void retainOnly(Set<String> active) {
        counters.keySet().retainAll(active);
    }
}
