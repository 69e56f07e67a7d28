package io.gpupool.operator.scheduling;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.ClassUsage;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuClassStatus;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuNodeStatus;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.GpuPoolStatus;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationStatus;
import io.gpupool.api.v1alpha1.ProvenNode;
import io.gpupool.core.inventory.Membership;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.status.Conditions;
import io.gpupool.core.status.PoolReport;
import io.gpupool.core.status.StatusDiff;
import io.gpupool.operator.ledger.PoolLedger;
import io.quarkus.runtime.StartupEvent;

/**
 * The status aggregator of the pool's own objects: after admission cycles it writes what the last cycle saw into the
 * status of GpuNodes, GpuClasses, Organizations and the GpuPool, patching only objects whose status changed. It is the
 * only writer of those statuses, so they never fight; the exceptions are a GpuNode's status.lastHeartbeatTime, which
 * its cluster's agent writes, and an Organization's status.usage, which the usage fold writes: this class never sends
 * them (JSON patches of its own fields only).
 *
 * <p>It writes on a thread of its own, the latest cycle's outcome only: each outcome describes the whole pool, so when
 * cycles come faster than the writes the ones in between are skipped, and reconciles do not wait for these writes.
 * It publishes at most once per {@link #MIN_INTERVAL}: every admission changes its node's, class's and organization's
 * figures, and at a steady few applies a second, writing them after every cycle cost as many API writes as the
 * ModelDeployments themselves; these statuses are for people and dashboards, a second behind at most.
 */
@ApplicationScoped
public class PoolStatusPublisher {

    /** Organization condition: some namespace it lists is listed by another organization too. */
    public static final String NAMESPACES_CONTESTED = "NamespacesContested";

    private static final Logger LOG = Logger.getLogger(PoolStatusPublisher.class);
    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    /** Condition type on a GpuNode: whether all its GPUs count toward its organization's quota. */
    static final String VERIFIED = "Verified";
    /** The shortest time from the start of one publication to the start of the next. */
    static final Duration MIN_INTERVAL = Duration.ofSeconds(1);

    private final KubernetesClient client;
    private final java.time.Clock clock;
    private final PoolLedger ledger;
    private final ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gpupool-status-publisher");
        t.setDaemon(true);
        return t;
    });
    /** The outcome waiting to be written; non-null while a write is queued. */
    private final AtomicReference<Latest> latest = new AtomicReference<>();
    /** The last outcome written: written again every minute, so that the ledgers' checkpoints stay fresh. */
    private volatile Latest written;
    /** When the last publication started (System.nanoTime), read by the thread that queues the next one. */
    private volatile long lastStart = System.nanoTime() - MIN_INTERVAL.toNanos();

    private record Latest(PoolScheduler.CycleOutcome outcome, PoolView view) {
    }

    @Inject
    public PoolStatusPublisher(KubernetesClient client, java.time.Clock clock, PoolLedger ledger) {
        this.client = client;
        this.clock = clock;
        this.ledger = ledger;
        long every = PoolLedger.CHECKPOINT_INTERVAL.toMillis();
        // On the writer's thread: when no newer outcome waits, write the last one again (only a due ledger checkpoint
        // changes). Queuing it instead could put it in place of a newer one.
        writer.scheduleWithFixedDelay(() -> {
            Latest last = written;
            if (last != null && latest.get() == null) {
                try {
                    publish(last.outcome(), last.view());
                } catch (RuntimeException e) {
                    LOG.warn("Checkpointing the contributor ledger failed; the next minute tries again", e);
                }
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    void register(@Observes StartupEvent start, PoolScheduler scheduler) {
        attach(scheduler);
    }

    /**
     * Publishes after every cycle, and explains GpuNodes the pool does not believe as they change. The ledger takes
     * each cycle in before the status that shows it is written, and gives cycles the usage history of fairness with
     * memory.
     */
    void attach(PoolScheduler scheduler) {
        scheduler.onCycle(ledger::onCycle);
        scheduler.usageHistory(ledger::decayedNetUsage);
        scheduler.onCycle(this::publishSoon);
        scheduler.onDistrusted((node, view) -> writer.execute(() -> {
            try {
                explainRejection(node, view);
            } catch (RuntimeException e) {
                LOG.debugf("Explaining GpuNode %s/%s failed: %s", node.getMetadata().getNamespace(),
                        node.getMetadata().getName(), e.getMessage());
            }
        }));
    }

    /**
     * Writes why the pool does not believe a GpuNode (Ready=False with the reason, nothing allocatable), when its
     * status does not say so yet: no admission cycle runs for such a node.
     */
    void explainRejection(GpuNode n, PoolView view) {
        var rejection = NodeTrust.check(n, view.contributedClusters(),
                PoolInputs.maxGpusPerNode(view.pool().map(GpuPool::getSpec).orElse(null)));
        if (rejection.isEmpty() || n.getSpec() == null) {
            return;
        }
        GpuNodeStatus previous = n.getStatus() == null ? new GpuNodeStatus() : n.getStatus();
        GpuNodeStatus next = new GpuNodeStatus();
        next.allocatable = 0;
        next.allocated = 0;
        next.conditions = Conditions.set(previous.conditions, Conditions.READY, false, rejection.get().reason(),
                rejection.get().message(), n.getMetadata().getGeneration(), clock);
        if (!StatusDiff.same(previous, next, "lastHeartbeatTime")) {
            patchNodeStatus(n, next);
        }
    }

    /** Queues the outcome of a cycle for writing; an outcome already waiting is replaced by this newer one. */
    void publishSoon(PoolScheduler.CycleOutcome outcome, PoolView view) {
        if (latest.getAndSet(new Latest(outcome, view)) == null) {
            long wait = Math.max(0, lastStart + MIN_INTERVAL.toNanos() - System.nanoTime());
            writer.schedule(() -> {
                lastStart = System.nanoTime();
                Latest next = latest.getAndSet(null);
                try {
                    written = next;
                    publish(next.outcome(), next.view());
                } catch (RuntimeException e) {
                    LOG.warn("Publishing the pool's status failed; the next cycle writes it again", e);
                }
            }, wait, TimeUnit.NANOSECONDS);
        }
    }

    @PreDestroy
    void stop() {
        writer.shutdownNow();
    }

    void publish(PoolScheduler.CycleOutcome outcome, PoolView view) {
        ledger.takeTokens(view);
        Map<NodeKey, PoolNode> nodes = new HashMap<>();
        outcome.snapshot().nodes().forEach(n -> nodes.put(n.key(), n));
        PoolReport report = outcome.report();

        Map<String, String> approved = view.contributedClusters();
        int maxGpusPerNode = PoolInputs.maxGpusPerNode(view.pool().map(GpuPool::getSpec).orElse(null));
        for (GpuNode n : view.gpuNodes()) {
            if (n.getSpec() == null) {
                continue;
            }
            var rejection = NodeTrust.check(n, approved, maxGpusPerNode);
            PoolNode pn = rejection.isPresent() ? null : nodes.get(PoolInputs.nodeKey(n));
            GpuNodeStatus previous = n.getStatus() == null ? new GpuNodeStatus() : n.getStatus();
            GpuNodeStatus next = new GpuNodeStatus();
            next.gpuClass = pn == null ? null : pn.gpuClass();
            next.allocatable = pn == null || !pn.takesNewReplicas() ? 0 : pn.gpus();
            next.allocated = rejection.isPresent() ? 0 : outcome.allocated().getOrDefault(PoolInputs.nodeKey(n), 0);
            next.conditions = rejection.isPresent()
                    ? Conditions.set(previous.conditions, Conditions.READY, false, rejection.get().reason(),
                            rejection.get().message(), n.getMetadata().getGeneration(), clock)
                    : readyCondition(previous, pn, Boolean.FALSE.equals(n.getSpec().nodeReady),
                            n.getMetadata().getGeneration());
            var counted = pn == null ? null : outcome.counted().get(pn.key());
            next.countedGpus = counted == null ? 0 : counted.gpus();
            next.conditions = counted == null ? Conditions.remove(next.conditions, VERIFIED)
                    : Conditions.set(next.conditions, VERIFIED, counted.gpus() >= pn.gpus(), counted.reason(),
                            counted.message(), n.getMetadata().getGeneration(), clock);
            // lastHeartbeatTime is the agent's: never compared, never sent.
            if (!StatusDiff.same(previous, next, "lastHeartbeatTime")) {
                patchNodeStatus(n, next);
                next.lastHeartbeatTime = previous.lastHeartbeatTime;
                n.setStatus(next);
            }
        }
        for (GpuClass c : view.gpuClasses()) {
            GpuClassStatus next = new GpuClassStatus();
            var usage = report.classes().get(c.getMetadata().getName());
            next.nodes = usage == null ? 0 : usage.nodes();
            next.gpus = usage == null ? 0 : usage.gpus();
            next.allocated = usage == null ? 0 : usage.allocated();
            next.observedGeneration = c.getMetadata().getGeneration();
            if (!StatusDiff.same(c.getStatus(), next)) {
                patch(c, next);
            }
        }
        Membership membership = view.membership();
        Map<String, Integer> members = membership.memberNamespaces();
        for (Organization org : view.organizations()) {
            OrganizationStatus previous = org.getStatus() == null ? new OrganizationStatus() : org.getStatus();
            OrganizationStatus next = new OrganizationStatus();
            var orgReport = report.organizations().get(org.getMetadata().getName());
            next.classes = orgReport == null ? new ArrayList<>() : new ArrayList<>(orgReport.classes());
            next.weightedShare = orgReport == null ? 0L : orgReport.weightedSharePerMille();
            next.namespaces = members.getOrDefault(org.getMetadata().getName(), 0);
            next.observedGeneration = org.getMetadata().getGeneration();
            next.conditions = Conditions.set(previous.conditions, Conditions.READY, true, "QuotaComputed",
                    "Quota and usage computed by the last admission cycle.", next.observedGeneration, clock);
            next.conditions = contested(next.conditions, membership, org.getMetadata().getName(),
                    next.observedGeneration);
            // A fresh checkpoint only when one is due: a status that did not change otherwise costs no write.
            next.ledger = ledger.statusFor(org.getMetadata().getName(), previous.ledger);
            List<ProvenNode> proven = outcome.proven().get(org.getMetadata().getName());
            next.provenNodes = proven == null || proven.isEmpty() ? null : proven;
            // status.usage is the usage fold's (io.gpupool.operator.usage): neither compared nor sent.
            if (!StatusDiff.same(previous, next, "usage")) {
                patchOrganizationStatus(org, next, previous.provenNodes != null && next.provenNodes == null);
            }
        }
        view.pool().ifPresent(pool -> {
            GpuPoolStatus next = new GpuPoolStatus();
            next.gpus = report.classes().values().stream().mapToInt(PoolReport.ClassTotals::gpus).sum();
            next.allocated = outcome.allocated().values().stream().mapToInt(Integer::intValue).sum();
            next.observedGeneration = pool.getMetadata().getGeneration();
            if (!StatusDiff.same(pool.getStatus(), next)) {
                patch(pool, next);
            }
        });
    }

    /**
     * NamespacesContested: namespaces this organization lists that another lists too belong to neither (so neither can
     * take the other's by listing it); the condition names them and who else claims them. Removed when none is.
     */
    private List<io.fabric8.kubernetes.api.model.Condition> contested(List<io.fabric8.kubernetes.api.model.Condition> conditions,
            Membership membership, String organization, Long generation) {
        List<String> contested = membership.contestedBy(organization);
        if (contested.isEmpty()) {
            return Conditions.remove(conditions, NAMESPACES_CONTESTED);
        }
        List<String> parts = new ArrayList<>();
        for (String ns : contested) {
            List<String> others = new ArrayList<>(membership.claimants(ns));
            others.remove(organization);
            parts.add(ns + " (also listed by " + String.join(", ", others) + ")");
        }
        return Conditions.set(conditions, NAMESPACES_CONTESTED, true, "ListedByAnotherOrganization",
                "These namespaces belong to no organization until a pool admin removes them from all Organizations but "
                        + "one: " + String.join("; ", parts) + ".", generation, clock);
    }

    private List<io.fabric8.kubernetes.api.model.Condition> readyCondition(GpuNodeStatus previous, PoolNode pn,
            boolean notReady, Long generation) {
        boolean ready;
        String reason;
        String message;
        if (pn == null) {
            ready = false;
            reason = "Unknown";
            message = "The node is not part of the last admission cycle.";
        } else if (pn.state() == NodeState.GONE && notReady) {
            ready = false;
            reason = "NotReadyTooLong";
            message = "The node has not been ready for longer than the heartbeat timeout; its replicas are placed "
                    + "elsewhere.";
        } else if (pn.state() == NodeState.GONE) {
            ready = false;
            reason = "HeartbeatExpired";
            message = "Its agent has not reported within the heartbeat timeout; its replicas are placed elsewhere.";
        } else if (pn.gpuClass() == null) {
            ready = false;
            reason = "NoGpuClass";
            message = "No GpuClass matches this GPU; create one whose match covers its product and memory.";
        } else if (pn.state() == NodeState.WITHDRAWING) {
            ready = false;
            reason = "Withdrawing";
            message = "Its contributor is taking it back (cordoned, or leaving the pool): it takes no new replicas, and "
                    + "its replicas are placed elsewhere, serving here until their replacements are ready.";
        } else if (pn.state() == NodeState.NOT_READY) {
            ready = false;
            reason = "NotReady";
            message = "The node is not ready: it keeps its replicas but takes no new ones; they are placed elsewhere "
                    + "if it stays not ready for longer than the heartbeat timeout.";
        } else {
            ready = true;
            reason = "Schedulable";
            message = "The node takes replicas of class " + pn.gpuClass() + ".";
        }
        return Conditions.set(previous.conditions, Conditions.READY, ready, reason, message, generation, clock);
    }

    /**
     * Writes the fields of a GpuNode's status the pool owns, and only those: lastHeartbeatTime belongs to the node's
     * agent and is never sent.
     */
    private void patchNodeStatus(GpuNode node, GpuNodeStatus next) {
        Map<String, Object> fields = new LinkedHashMap<>();
        if (next.gpuClass != null) {
            fields.put("gpuClass", next.gpuClass);
        }
        fields.put("allocatable", next.allocatable);
        fields.put("allocated", next.allocated);
        fields.put("countedGpus", next.countedGpus);
        fields.put("conditions", next.conditions);
        patchFields(node, node.getStatus() != null, fields,
                next.gpuClass == null && node.getStatus() != null && node.getStatus().gpuClass != null
                        ? List.of("gpuClass") : List.of());
    }

    /**
     * Writes the fields of an Organization's status the pool's admission owns, and only those: status.usage belongs
     * to the usage fold (io.gpupool.operator.usage), which writes it on its own schedule.
     */
    private void patchOrganizationStatus(Organization org, OrganizationStatus next, boolean noMoreProofs) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("classes", next.classes);
        fields.put("weightedShare", next.weightedShare);
        fields.put("namespaces", next.namespaces);
        fields.put("conditions", next.conditions);
        fields.put("observedGeneration", next.observedGeneration);
        fields.put("ledger", next.ledger);
        fields.put("provenNodes", next.provenNodes);
        patchFields(org, org.getStatus() != null, fields, noMoreProofs ? List.of("provenNodes") : List.of());
    }

    /**
     * Writes some fields of a status and leaves the others to their own writers. An object with a status gets a JSON
     * patch (RFC 6902) of each field, which says explicitly that lists are replaced; one without (as far as the cache
     * knows) gets a JSON merge patch, which cannot remove a field written meanwhile by another writer.
     */
    private void patchFields(HasMetadata object, boolean hasStatus, Map<String, Object> fields, List<String> removed) {
        // From the cached object: addressed by name only, Fabric8 would first read it from the server.
        var status = client.resource(object).subresource("status");
        try {
            if (!hasStatus) {
                status.patch(PatchContext.of(PatchType.JSON_MERGE), JSON.asJson(Map.of("status", fields)));
                return;
            }
            List<Map<String, Object>> ops = new ArrayList<>();
            fields.forEach((k, v) -> {
                if (v != null) {
                    ops.add(Map.of("op", "add", "path", "/status/" + k, "value", v));
                }
            });
            removed.forEach(k -> ops.add(Map.of("op", "remove", "path", "/status/" + k)));
            status.patch(PatchContext.of(PatchType.JSON), JSON.asJson(ops));
        } catch (KubernetesClientException e) {
            // The next cycle writes it again.
            LOG.debugf("Could not patch status of %s %s/%s: %s", object.getKind(), object.getMetadata().getNamespace(),
                    object.getMetadata().getName(), e.getMessage());
        }
    }

    /**
     * Replaces the whole status with a JSON patch (RFC 6902) that does not carry the resourceVersion: this class is the
     * only writer of these statuses, so there is nothing to lose by writing over a newer version, and a PUT with the
     * cached version failed with 409 Conflict whenever the cache had not yet seen the previous write (83 % of the
     * Organization status writes in a burst of 1,000 applies). A JSON merge patch would be shorter, but merge-patch
     * semantics for lists differ between servers (the mock server appends them); JSON patch replaces the list.
     */
    private <T extends HasMetadata> void patch(T current, Object status) {
        try {
            client.resource(current).subresource("status").patch(PatchContext.of(PatchType.JSON),
                    JSON.asJson(List.of(Map.of("op", "add", "path", "/status", "value", status))));
        } catch (KubernetesClientException e) {
            // The next cycle writes it again; a status is never worth failing a reconcile.
            LOG.debugf("Could not update status of %s %s: %s", current.getKind(), current.getMetadata().getName(),
                    e.getMessage());
        }
    }
}
