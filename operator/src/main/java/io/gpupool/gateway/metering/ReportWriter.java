package io.gpupool.gateway.metering;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.api.v1alpha1.GatewayReportSpec;
import io.gpupool.core.gateway.metering.ReportSlots;
import io.gpupool.core.gateway.metering.UsageCounts;
import io.gpupool.core.gateway.metering.UsageMeter;
import io.gpupool.gateway.GatewaySettings;

/**
 * Writes what this gateway process metered into a report slot it holds, at most every report interval: the slot's
 * counts when it was taken plus everything metered since. Each write replaces the slot with optimistic locking
 * (resourceVersion), so a write either lands whole or not at all; a slot lost to another holder (this process was cut
 * off longer than the lease) keeps what was written, and what came after goes to the next slot taken. Nothing written
 * is ever lost or counted twice, and a process that dies loses only what it metered since its last write (at most one
 * interval). On a clean stop the last counts are written and the slot is released.
 */
public final class ReportWriter implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ReportWriter.class);
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private final KubernetesClient client;
    private final UsageMeter meter;
    private final GatewaySettings settings;
    private final Clock clock;
    private final Supplier<Set<UsageCounts.KeyRef>> existingKeys;
    private final Supplier<Map<String, GatewayReportSpec.ModelState>> models;
    /** What the report said of each model at the last successful write. */
    private Map<String, GatewayReportSpec.ModelState> writtenModels = Map.of();
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gpupool-gateway-report");
        t.setDaemon(true);
        return t;
    });
    /** The slot held, as last written (null: none held). */
    private GatewayReport slot;
    /** What the slot held when it was taken. */
    private UsageCounts base = UsageCounts.EMPTY;
    /** The meter's counts already stored in earlier slots (the part of the meter the current slot does not hold). */
    private UsageCounts since = UsageCounts.EMPTY;
    /** The meter's counts at the last successful write. */
    private UsageCounts written = UsageCounts.EMPTY;
    private Instant renewed = Instant.EPOCH;

    /**
     * @param existingKeys the ApiKeys that exist (counts of deleted keys are dropped)
     * @param models       what to report of each model: replicas this process reaches, its load
     */
    public ReportWriter(KubernetesClient client, UsageMeter meter, GatewaySettings settings, Clock clock,
            Supplier<Set<UsageCounts.KeyRef>> existingKeys, Supplier<Map<String, GatewayReportSpec.ModelState>> models) {
        this.client = client;
        this.meter = meter;
        this.settings = settings;
        this.clock = clock;
        this.existingKeys = existingKeys;
        this.models = models;
    }

    /**
     * Writes soon (on the writer's thread) when what it reports changed: reachability changes and requests held for a
     * first replica (the operator starts one on this write) are not held back.
     */
    public void changed() {
        loop.execute(() -> {
            try {
                flush(false);
            } catch (RuntimeException e) {
                LOG.debugf("Writing the gateway's usage report failed (retried): %s", e.getMessage());
            }
        });
    }

    public void start() {
        long period = settings.reportInterval().toMillis();
        loop.scheduleWithFixedDelay(() -> {
            try {
                flush(false);
            } catch (RuntimeException e) {
                LOG.debugf("Writing the gateway's usage report failed (retried): %s", e.getMessage());
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    /** Writes now, on the writer's thread, and waits (tests, and the last write on stop). */
    public void flushNow() {
        try {
            loop.submit(() -> flush(false)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("Could not write the gateway's usage report", e);
        }
    }

    /** The name of the slot held, or null. */
    public synchronized String slotName() {
        return slot == null ? null : slot.getMetadata().getName();
    }

    private synchronized void flush(boolean release) {
        UsageCounts now = meter.snapshot();
        Map<String, GatewayReportSpec.ModelState> reach = models.get();
        Instant at = clock.instant();
        boolean renewDue = !renewed.plus(ReportSlots.LEASE.dividedBy(3)).isAfter(at);
        if (slot != null && now.equals(written) && reach.equals(writtenModels) && !renewDue && !release) {
            return;
        }
        if (slot == null && !acquire(at)) {
            return;
        }
        UsageCounts content = base.plus(now.minus(since)).keepKeys(existingKeys.get()::contains);
        GatewayReport next = copyOf(slot);
        content.writeTo(next.getSpec());
        next.getSpec().models = new java.util.ArrayList<>(reach.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(Map.Entry::getValue).toList());
        next.getSpec().holder = settings.instance();
        // Released: a renewal long past, so that the next process takes the slot at once.
        next.getSpec().renewTime = (release ? Instant.EPOCH : at.truncatedTo(ChronoUnit.SECONDS)).toString();
        next.getSpec().leaseDurationSeconds = (int) ReportSlots.LEASE.toSeconds();
        try {
            slot = client.resource(next).update();
            written = now;
            writtenModels = reach;
            renewed = at;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 404) {
                // Lost: what was written stays in it; what came after goes to the next slot.
                LOG.infof("Gateway report slot %s was taken over or removed; taking another",
                        slot.getMetadata().getName());
                slot = null;
                since = written;
                base = UsageCounts.EMPTY;
            } else {
                throw e;
            }
        }
        if (release) {
            slot = null;
        }
    }

    /** Takes a slot whose lease lapsed, or makes a new one. */
    private boolean acquire(Instant at) {
        String ns = settings.namespace();
        List<GatewayReport> slots = client.resources(GatewayReport.class).inNamespace(ns).list().getItems();
        var takeable = ReportSlots.takeable(slots, settings.name(), settings.instance(), at);
        try {
            if (takeable.isPresent()) {
                GatewayReport taken = copyOf(takeable.get());
                taken.getSpec().holder = settings.instance();
                taken.getSpec().renewTime = at.truncatedTo(ChronoUnit.SECONDS).toString();
                taken.getSpec().leaseDurationSeconds = (int) ReportSlots.LEASE.toSeconds();
                slot = client.resource(taken).update();
            } else {
                GatewayReport fresh = new GatewayReport();
                fresh.setMetadata(new ObjectMetaBuilder().withName(ReportSlots.newName(slots, settings.name()))
                        .withNamespace(ns).addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                        .addToLabels("app.kubernetes.io/component", "gateway").build());
                fresh.getSpec().holder = settings.instance();
                fresh.getSpec().renewTime = at.truncatedTo(ChronoUnit.SECONDS).toString();
                fresh.getSpec().leaseDurationSeconds = (int) ReportSlots.LEASE.toSeconds();
                slot = client.resource(fresh).create();
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return false; // another replica was quicker: try again at the next interval
            }
            throw e;
        }
        base = UsageCounts.of(slot.getSpec());
        since = written;
        renewed = at;
        LOG.infof("Gateway %s reports its usage in %s/%s", settings.instance(), ns, slot.getMetadata().getName());
        return true;
    }

    private static GatewayReport copyOf(GatewayReport r) {
        return SERIALIZATION.clone(r);
    }

    /** Writes the last counts and releases the slot, so that another process may take it at once. */
    @Override
    public void close() {
        try {
            loop.submit(() -> flush(true)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("The gateway's last usage report could not be written: %s", e.getMessage());
        } finally {
            loop.shutdownNow();
        }
    }
}
