package io.gpupool.core.autoscaling;

import java.time.Instant;
import java.util.Collection;

import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.core.gateway.metering.ReportSlots;

/**
 * A model's load as the gateway replicas report it, summed over them: no Prometheus in between, the reports are the
 * slots the gateway already writes its usage to.
 *
 * @param load     in-flight plus queued requests, each replica's mean over its window, summed
 * @param held     requests held for a first replica (the model has none ready), summed
 * @param gateways gateway replicas whose report counted (a slot whose lease lapsed does not: its holder is gone)
 */
public record ModelLoad(double load, int held, int gateways) {

    public static final ModelLoad NONE = new ModelLoad(0, 0, 0);

    /** The load of a model ({@code namespace/name}) over the gateway's report slots. */
    public static ModelLoad of(Collection<GatewayReport> reports, String model, Instant now) {
        double load = 0;
        int held = 0;
        int gateways = 0;
        for (GatewayReport r : reports) {
            if (r.getSpec() == null || ReportSlots.lapsed(r.getSpec(), now)) {
                continue;
            }
            gateways++;
            if (r.getSpec().models == null) {
                continue;
            }
            for (var m : r.getSpec().models) {
                if (model.equals(m.model)) {
                    load += m.load == null ? 0 : m.load;
                    held += m.heldRequests == null ? 0 : m.heldRequests;
                }
            }
        }
        return new ModelLoad(load, held, gateways);
    }

    /** What the replicas must carry: the mean load, and at least each held request (they wait for a replica now). */
    public double demand() {
        return Math.max(load, held);
    }
}
