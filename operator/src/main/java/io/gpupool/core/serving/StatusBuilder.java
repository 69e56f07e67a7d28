package io.gpupool.core.serving;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import io.fabric8.kubernetes.api.model.Condition;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.AutoscalingStatus;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ReplicaCounts;
import io.gpupool.core.gateway.ModelCatalog;
import io.gpupool.core.inventory.Sharing;
import io.gpupool.core.status.Conditions;

/** Builds a ModelDeployment's next status from what one reconcile learned; conditions keep their transition times. */
public final class StatusBuilder {

    private final ModelDeploymentStatus next = new ModelDeploymentStatus();
    private final Clock clock;
    private final Long generation;
    private int desired;
    private int admitted;
    private String fixedPhase;
    private Integer reachable;

    public StatusBuilder(ModelDeployment md, ModelDeploymentStatus previous, Clock clock) {
        this.clock = clock;
        this.generation = md.getMetadata().getGeneration();
        this.next.conditions = new ArrayList<>(previous.conditions == null ? List.of() : previous.conditions);
        this.next.organization = previous.organization;
        this.next.estimatedMemoryMiB = previous.estimatedMemoryMiB;
        this.next.endpoint = previous.endpoint;
        this.next.servedModelName = previous.servedModelName;
        this.next.autoscaling = previous.autoscaling;
        // The scale subresource's label selector: the serving pods of this ModelDeployment (ServingRenderer's labels).
        this.next.selector = ApiGroup.MODEL_DEPLOYMENT_LABEL + "=" + md.getMetadata().getName();
        this.next.placements = previous.placements == null ? new ArrayList<>() : new ArrayList<>(previous.placements);
        this.next.handover = previous.handover == null ? new ArrayList<>() : new ArrayList<>(previous.handover);
        this.desired = md.getSpec() == null || md.getSpec().replicas == null ? 1 : md.getSpec().replicas;
    }

    /**
     * The replicas asked for and, when the ModelDeployment autoscales, its autoscaler's decision.
     *
     * @param desired     replicas asked for (spec.replicas, or the autoscaler's)
     * @param autoscaling status.autoscaling, or null without autoscaling
     */
    public StatusBuilder autoscaling(int desired, AutoscalingStatus autoscaling) {
        this.desired = desired;
        next.autoscaling = autoscaling;
        return this;
    }

    public StatusBuilder organization(String organization) {
        next.organization = organization;
        return this;
    }

    /** The Shared condition: present only while the ModelDeployment asks to be shared. */
    public StatusBuilder sharing(Sharing sharing) {
        if (sharing.reason() == null) {
            next.conditions = Conditions.remove(next.conditions, Sharing.CONDITION);
        } else {
            setCondition(Sharing.CONDITION, sharing.shared(), sharing.reason(), sharing.message());
        }
        return this;
    }

    public StatusBuilder estimatedMemoryMiB(long mib) {
        next.estimatedMemoryMiB = mib;
        return this;
    }

    /** The ModelDeployment cannot be admitted as it is; what runs keeps running. */
    public StatusBuilder notAdmitted(String reason, String message, Admission admission, String phase) {
        next.placements = new ArrayList<>(admission.placements());
        admitted = admission.admittedReplicas();
        setCondition(Conditions.ADMITTED, false, reason, message);
        fixedPhase = phase;
        return this;
    }

    public StatusBuilder admission(Admission admission) {
        next.placements = new ArrayList<>(admission.placements());
        admitted = admission.admittedReplicas();
        if (admission.pending() != null) {
            setCondition(Conditions.ADMITTED, admitted > 0, admission.pending().reason(),
                    admitted + " of " + desired + " replica(s) admitted. " + admission.pending().message());
        } else {
            setCondition(Conditions.ADMITTED, true, "Admitted",
                    admitted + " of " + desired + " replica(s) admitted: " + describe(admission));
        }
        if (admission.preempted() != null) {
            setCondition(Conditions.PREEMPTED, true, "Preempted", admission.preempted());
        } else if (admission.pending() == null) {
            next.conditions = Conditions.remove(next.conditions, Conditions.PREEMPTED);
        }
        return this;
    }

    /** Whether replicas on contributed clusters have the model's token; no condition when none needs it. */
    public StatusBuilder credentials(CredentialsOutcome outcome) {
        if (outcome == null) {
            next.conditions = Conditions.remove(next.conditions, CredentialsOutcome.CONDITION);
        } else {
            setCondition(CredentialsOutcome.CONDITION, outcome.shared(), outcome.reason(), outcome.message());
        }
        return this;
    }

    /** The served name this ModelDeployment holds (null when another holds it), and the ServedModelName condition. */
    public StatusBuilder servedName(String name, boolean held, String reason, String message) {
        next.servedModelName = name;
        setCondition(ModelCatalog.CONDITION, held, reason, message);
        return this;
    }

    /** Replicas that keep serving on nodes being withdrawn until their replacements are ready. */
    public StatusBuilder handover(List<Placement> handover) {
        next.handover = new ArrayList<>(handover);
        return this;
    }

    /** Ready replicas the pool's gateway reaches (null: no gateway runs). */
    public StatusBuilder reachable(Integer replicas) {
        this.reachable = replicas;
        return this;
    }

    /**
     * @param ready ready serving pods; during a handover both the replacements and the replicas they replace may be
     *              ready, but the ModelDeployment never has more replicas than it asks for
     */
    public StatusBuilder readiness(int ready, String endpoint) {
        ready = Math.min(ready, desired);
        next.replicas = new ReplicaCounts(desired, admitted, ready);
        next.replicas.reachable = reachable;
        next.endpoint = endpoint;
        boolean allReady = ready >= desired;
        setCondition(Conditions.READY, allReady && fixedPhase == null,
                fixedPhase != null ? conditionReason(Conditions.ADMITTED) : allReady ? "AllReplicasReady" : "ReplicasNotReady",
                ready + " of " + desired + " replica(s) ready.");
        if (fixedPhase != null) {
            next.phase = fixedPhase;
        } else if (allReady) {
            next.phase = "Running";
        } else if (ready > 0) {
            next.phase = "Degraded";
        } else if (admitted > 0) {
            next.phase = "Admitted";
        } else {
            next.phase = "Pending";
        }
        next.observedGeneration = generation;
        return this;
    }

    public StatusBuilder reconcileError(String message) {
        setCondition(Conditions.READY, false, "ReconcileError",
                "The operator could not reconcile this ModelDeployment and will retry: " + message);
        next.observedGeneration = generation;
        return this;
    }

    public ModelDeploymentStatus build() {
        return next;
    }

    private String conditionReason(String type) {
        return Conditions.find(next.conditions, type).map(Condition::getReason).orElse("Unknown");
    }

    private void setCondition(String type, boolean status, String reason, String message) {
        next.conditions = Conditions.set(next.conditions, type, status, reason, message, generation, clock);
    }

    private static String describe(Admission admission) {
        return admission.placements().isEmpty() ? "no replicas requested."
                : String.join(", ", admission.placements().stream().map(p -> p.replicas + " on " + p.cluster + "/"
                        + p.node + " (" + p.gpuClass + ")").toList()) + ".";
    }
}
