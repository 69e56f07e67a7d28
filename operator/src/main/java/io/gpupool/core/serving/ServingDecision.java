package io.gpupool.core.serving;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.admission.Handover;
import io.gpupool.core.autoscaling.AutoscalingPolicy;
import io.gpupool.core.autoscaling.ScaleDecision;
import io.gpupool.core.gateway.ModelCatalog;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.inventory.Sharing;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.Workload;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.status.Conditions;

/**
 * The one decision of a ModelDeployment reconcile: from the ModelDeployment, what the reconciler gathered
 * ({@link ServingInputs}) and the scheduler's {@link Admission}, everything to apply ({@link ServingPlan}): which
 * replicas run where (the admission, plus replicas that keep serving on nodes being withdrawn), the Deployments and
 * ServingWork that run them, the token's copies in contributed clusters, the Events and the next status. A pure
 * function: the reconciler only gathers and applies.
 */
public final class ServingDecision {

    public static final String NO_ORGANIZATION = "NoOrganization";

    private ServingDecision() {
    }

    /**
     * What the ModelDeployment asks the scheduler for. Without an organization, or with an invalid spec, it is frozen:
     * it keeps the replicas it has and gets no new ones, so that a bad edit never takes a serving model down.
     *
     * @param organization       its namespace's organization, or null
     * @param organizationExists whether that Organization exists
     * @param problems           what is wrong with its spec; empty when it is valid
     */
    public static Workload demand(ModelDeployment md, String organization, boolean organizationExists,
            List<String> problems) {
        return demand(md, organization, organizationExists, problems, Sharing.of(null, java.util.Optional.empty()),
                null);
    }

    /**
     * What the ModelDeployment asks the scheduler for, with its autoscaler's decision.
     *
     * @param sharing whether the pool lets it be shared ({@link Sharing}: never spec.shared alone)
     * @param scale   the autoscaler's decision (its replicas replace spec.replicas), or null without autoscaling
     */
    public static Workload demand(ModelDeployment md, String organization, boolean organizationExists,
            List<String> problems, Sharing sharing, ScaleDecision scale) {
        if (organization == null || !organizationExists) {
            return Workloads.frozen(md, organization, 1, List.of(), List.of());
        }
        if (!problems.isEmpty()) {
            int gpus = md.getSpec() != null && md.getSpec().gpu != null && md.getSpec().gpu.count != null
                    ? Math.max(1, md.getSpec().gpu.count) : 1;
            return Workloads.frozen(md, organization, gpus, List.of(), List.of());
        }
        int desired = desiredReplicas(md, scale);
        Workload demand = Workloads.demand(md, organization, sharing, desired, List.of(), List.of());
        AutoscalingPolicy policy = AutoscalingPolicy.of(md.getSpec());
        // Replicas above minReplicas are elastic: admitted as borrowing, preempted first.
        return policy == null ? demand : demand.withGuaranteedReplicas(Math.min(desired, policy.minReplicas()));
    }

    /**
     * The replicas a ModelDeployment asks for: when it autoscales, its autoscaler's decision (this one, or the last one
     * recorded in status.autoscaling when it is not decided again now), else spec.replicas.
     */
    public static int desiredReplicas(ModelDeployment md, ScaleDecision scale) {
        if (scale != null) {
            return scale.desired();
        }
        AutoscalingPolicy policy = AutoscalingPolicy.of(md.getSpec());
        if (policy == null) {
            return Workloads.replicas(md.getSpec());
        }
        var status = md.getStatus();
        if (status != null && status.autoscaling != null && status.autoscaling.desiredReplicas != null) {
            return policy.bounded(status.autoscaling.desiredReplicas);
        }
        return policy.bounded(status == null || status.replicas == null ? 0 : status.replicas.admitted);
    }

    public static ServingPlan decide(ModelDeployment md, ServingInputs in, Admission admission) {
        ModelDeploymentStatus previous = md.getStatus() == null ? new ModelDeploymentStatus() : md.getStatus();
        StatusBuilder status = new StatusBuilder(md, previous, in.clock())
                .autoscaling(desiredReplicas(md, in.scale()), in.scale() == null ? null : in.scale().status());
        List<ServingPlan.Warning> warnings = new ArrayList<>();
        admissionStatus(md, in, admission, previous, status, warnings);
        servedName(md, in, status, warnings);
        status.reachable(in.gatewayUrl() == null ? null : in.reachable());
        if (!in.appliesChildren()) {
            int ready = readyOfDeployments(in.deployments()) + readyOfWorks(in.works());
            return new ServingPlan(status.readiness(ready, endpoint(md, in)).build(), null,
                    List.copyOf(warnings), null);
        }
        Instant now = in.clock().instant();
        HandoverPlan handover = handover(md, in, admission, now);
        status.handover(handover.placements());
        List<Placement> running = new ArrayList<>(admission.placements());
        running.addAll(handover.placements());
        List<Placement> local = running.stream().filter(p -> NodeTrust.LOCAL_CLUSTER.equals(p.cluster)).toList();

        Instant retry = null;
        ModelToken token = token(md, in, running);
        ServingPlan.Credentials credentials = credentials(md, in, running, token);
        CredentialsOutcome outcome = credentialsOutcome(md, in, running, token);
        status.credentials(outcome);
        if (outcome != null && !outcome.shared()) {
            warnings.add(new ServingPlan.Warning(outcome.reason(), outcome.message(), true));
            // Nothing the operator watches tells it when the Secret or the permission to read it appears.
            retry = now.plus(CredentialsOutcome.RETRY);
        }

        List<ServingWork> works = works(md, in, running);
        List<ServingWork> obsolete = new ArrayList<>();
        Set<String> kept = new HashSet<>();
        works.forEach(w -> kept.add(w.getMetadata().getNamespace()));
        for (ServingWork w : in.works()) {
            if (!kept.contains(w.getMetadata().getNamespace())) {
                obsolete.add(w);
            }
        }
        int ready = readyOn(local, in.deployments()) + readyOfWorks(works, in.works());
        Instant lookAgain = earliest(earliest(retry, handover.deadline()),
                in.scale() == null ? null : in.scale().lookAgain());
        return new ServingPlan(status.readiness(ready, endpoint(md, in)).build(),
                new ServingPlan.Children(local, in.settings(), credentials, works, List.copyOf(obsolete)),
                List.copyOf(warnings), lookAgain);
    }

    private static Instant earliest(Instant a, Instant b) {
        return a == null ? b : b == null || a.isBefore(b) ? a : b;
    }

    /** The pool gateway's URL when one runs, else the model's own Service. */
    static String endpoint(ModelDeployment md, ServingInputs in) {
        return in.gatewayUrl() != null && !in.gatewayUrl().isBlank() ? in.gatewayUrl() : ServingRenderer.endpoint(md);
    }

    /** Whether it holds its served name ({@link ModelCatalog}: the older claimant keeps a name); a Warning when not. */
    private static void servedName(ModelDeployment md, ServingInputs in, StatusBuilder status,
            List<ServingPlan.Warning> warnings) {
        String name = ModelCatalog.servedName(md);
        if (in.servedNameHolder() != null) {
            String message = "The served model name '" + name + "' is held by ModelDeployment " + in.servedNameHolder()
                    + " (created earlier), so the gateway does not route it here. Set spec.servedModelName to a name "
                    + "of your own; the default, <namespace>/<name>, is always free.";
            status.servedName(null, false, ModelCatalog.TAKEN, message);
            warnings.add(new ServingPlan.Warning(ModelCatalog.TAKEN, message, true));
        } else {
            status.servedName(name, true, ModelCatalog.HELD, "Clients call this model as '" + name + "'.");
        }
    }

    /** Admitted, Preempted, organization and memory estimate; the Warning Events that go with them. */
    private static void admissionStatus(ModelDeployment md, ServingInputs in, Admission admission,
            ModelDeploymentStatus previous, StatusBuilder status, List<ServingPlan.Warning> warnings) {
        if (!in.admissible()) {
            String message = in.noOrganization() != null ? in.noOrganization()
                    : in.organization() == null
                            ? "Namespace '" + md.getMetadata().getNamespace() + "' belongs to no organization: no "
                                    + "Organization lists it in spec.namespaces. Ask a pool admin to add it to your "
                                    + "organization's."
                            : "Organization '" + in.organization() + "' does not exist. Ask a pool admin to create it.";
            status.notAdmitted(NO_ORGANIZATION, message, admission, "Pending");
            warnings.add(new ServingPlan.Warning(NO_ORGANIZATION, message, true));
        } else if (!in.problems().isEmpty()) {
            String message = String.join(" ", in.problems());
            status.notAdmitted(Conditions.INVALID_SPEC, message, admission, "Failed");
            status.organization(in.organization());
            warnings.add(new ServingPlan.Warning(Conditions.INVALID_SPEC, message, true));
        } else {
            status.organization(in.organization());
            status.sharing(in.sharing());
            if (Sharing.NOT_ALLOWED.equals(in.sharing().reason())) {
                warnings.add(new ServingPlan.Warning(Sharing.NOT_ALLOWED, in.sharing().message(), true));
            }
            status.estimatedMemoryMiB(Workloads.requiredMemoryMiB(md.getSpec()));
            status.admission(admission);
            if (admission.pending() != null) {
                warnings.add(new ServingPlan.Warning(admission.pending().reason(), admission.pending().message(),
                        true));
            }
            if (admission.preempted() != null && !Objects.equals(admission.preempted(),
                    Conditions.find(previous.conditions, Conditions.PREEMPTED).map(c -> c.getMessage())
                            .orElse(null))) {
                warnings.add(new ServingPlan.Warning("Preempted", admission.preempted(), false));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Handover: replicas that keep serving on nodes being withdrawn until their replacements are ready.

    /** Those replicas, and when the earliest of their handovers ends (null when there is none). */
    record HandoverPlan(List<Placement> placements, Instant deadline) {
    }

    private static HandoverPlan handover(ModelDeployment md, ServingInputs in, Admission admission, Instant now) {
        if (in.withdrawing().isEmpty()) {
            return new HandoverPlan(List.of(), null);
        }
        Map<NodeKey, Instant> deadlines = new HashMap<>();
        in.withdrawing().forEach((node, w) -> deadlines.put(node, w.since().plus(in.handover())));
        Map<NodeKey, Integer> kept = Handover.keep(desiredReplicas(md, in.scale()),
                readyOn(admission.placements(), readyByNode(in.deployments(), in.works())),
                stoppingOn(admission, deadlines.keySet()), deadlines, now);
        List<Placement> placements = new ArrayList<>();
        kept.forEach((node, replicas) -> {
            var w = in.withdrawing().get(node);
            placements.add(new Placement(node.cluster(), node.node(), w == null ? null : w.gpuClass(), replicas));
        });
        return new HandoverPlan(placements, Handover.nextDeadline(kept, deadlines));
    }

    /** Pods of replicas taken away that still run on the given nodes. */
    private static Map<NodeKey, Integer> stoppingOn(Admission admission, Set<NodeKey> nodes) {
        Map<NodeKey, Integer> out = new HashMap<>();
        for (Assignment a : admission.stopping()) {
            if (nodes.contains(a.node())) {
                out.merge(a.node(), a.replicas(), Integer::sum);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Contributed clusters: the token's copies and the ServingWork.

    /** The token's copies: for every contributed cluster that runs replicas, none for those that no longer do. */
    private static ServingPlan.Credentials credentials(ModelDeployment md, ServingInputs in, List<Placement> running,
            ModelToken token) {
        String key = RemoteWorkRenderer.workName(md.getMetadata().getNamespace(), md.getMetadata().getName());
        // Only clusters the spec lists get the token (placement keeps other replicas off them; a replica placed before
        // the list shrank gets none).
        List<String> needing = RemoteWorkRenderer.remoteClusters(running).stream()
                .filter(c -> tokenClusters(md).contains(c)).toList();
        List<String> forget = RemoteWork.clusters(in.works()).stream().filter(c -> !needing.contains(c)).toList();
        return token != null && token.state() == ModelToken.State.FOUND
                ? new ServingPlan.Credentials(key, token.value(), needing, forget)
                : new ServingPlan.Credentials(key, null, List.of(), forget);
    }

    /** The token, read only when the model has one and contributed clusters run replicas; else null. */
    private static ModelToken token(ModelDeployment md, ServingInputs in, List<Placement> running) {
        var ref = md.getSpec().hfTokenSecretRef;
        return ref == null || RemoteWorkRenderer.remoteClusters(running).isEmpty() ? null
                : in.tokens().read(ref.name, tokenKey(md));
    }

    /** The contributed clusters the spec lets the token go to. */
    private static List<String> tokenClusters(ModelDeployment md) {
        return md.getSpec().hfTokenClusters == null ? List.of() : md.getSpec().hfTokenClusters;
    }

    private static String tokenKey(ModelDeployment md) {
        var ref = md.getSpec().hfTokenSecretRef;
        return ref.key == null ? "token" : ref.key;
    }

    /** Condition {@value CredentialsOutcome#CONDITION}; null (no condition) when no contributed cluster needs it. */
    private static CredentialsOutcome credentialsOutcome(ModelDeployment md, ServingInputs in, List<Placement> running,
            ModelToken token) {
        if (token == null) {
            return null;
        }
        List<String> needing = RemoteWorkRenderer.remoteClusters(running);
        String secret = md.getSpec().hfTokenSecretRef.name;
        List<String> notAllowed = needing.stream().filter(c -> !tokenClusters(md).contains(c)).toList();
        if (!notAllowed.isEmpty()) {
            return new CredentialsOutcome(false, "ClusterNotAllowed", "Replicas run on contributed clusters "
                    + notAllowed + ", which spec.hfTokenClusters does not list: the token is not sent there.");
        }
        return switch (token.state()) {
            case MISSING -> new CredentialsOutcome(false, "TokenNotFound", "Secret " + secret + " (key " + tokenKey(md)
                    + ") does not exist in namespace " + md.getMetadata().getNamespace() + ", so replicas on "
                    + "contributed clusters " + needing + " cannot download the model.");
            case UNREADABLE -> new CredentialsOutcome(false, "TokenNotReadable", "Replicas run on contributed clusters "
                    + needing + " and need the Hugging Face token, but this namespace does not let the pool's operator "
                    + "read Secret " + secret + ". To share it: " + in.grantCommand() + ".");
            case NOT_MARKED -> new CredentialsOutcome(false, "SecretNotMarked", "Secret " + secret + " is not marked "
                    + "as a model token, so it is not copied to contributed clusters " + needing + ". Mark it: kubectl "
                    + "label secret " + secret + " -n " + md.getMetadata().getNamespace() + " " + ModelToken.LABEL
                    + "=true");
            case FOUND -> {
                List<String> failed = needing.stream().filter(in.credentialWriteFailures()::contains).toList();
                yield failed.isEmpty()
                        ? new CredentialsOutcome(true, "Shared", "The Hugging Face token is shared with contributed "
                                + "clusters " + needing + ".")
                        : new CredentialsOutcome(false, "ShareFailed", "The token could not be written for clusters "
                                + failed + "; retrying.");
            }
        };
    }

    /**
     * The ServingWork that should exist: one per contributed cluster with replicas, and an empty one for a cluster
     * whose agent still reports pods of it (it stops them and reports when they are gone), so that the pool sees the
     * GPUs of stopping pods until they are free.
     */
    private static List<ServingWork> works(ModelDeployment md, ServingInputs in, List<Placement> running) {
        List<String> clusters = new ArrayList<>(RemoteWorkRenderer.remoteClusters(running));
        for (ServingWork w : in.works()) {
            String cluster = RemoteWork.cluster(w);
            if (cluster != null && !clusters.contains(cluster) && RemoteWork.podsLeft(w, cluster, in.goneNodes())) {
                clusters.add(cluster);
            }
        }
        List<ServingWork> out = new ArrayList<>();
        for (String cluster : clusters) {
            out.add(RemoteWorkRenderer.render(md, in.organization(), cluster, running, in.settings()));
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Readiness.

    /** Ready replicas per node: the pool's own Deployments, and what agents report for contributed clusters. */
    static Map<NodeKey, Integer> readyByNode(List<Deployment> deployments, List<ServingWork> works) {
        Map<NodeKey, Integer> ready = new HashMap<>();
        for (Deployment d : deployments) {
            var annotations = d.getMetadata().getAnnotations();
            String node = annotations == null ? null : annotations.get(ServingRenderer.NODE_ANNOTATION);
            if (node != null && d.getStatus() != null && d.getStatus().getReadyReplicas() != null) {
                ready.merge(new NodeKey(NodeTrust.LOCAL_CLUSTER, node), d.getStatus().getReadyReplicas(),
                        Integer::sum);
            }
        }
        RemoteWork.readyByNode(works).forEach((node, n) -> ready.merge(node, n, Integer::sum));
        return ready;
    }

    private static int readyOn(List<Placement> placements, Map<NodeKey, Integer> readyByNode) {
        int ready = 0;
        for (Placement p : placements) {
            ready += Math.min(p.replicas, readyByNode.getOrDefault(new NodeKey(p.cluster, p.node), 0));
        }
        return ready;
    }

    /** Ready replicas of the Deployments that run the given placements of the pool's own cluster, once applied. */
    private static int readyOn(List<Placement> local, List<Deployment> deployments) {
        return readyOn(local, readyByNode(deployments, List.of()));
    }

    /** Ready replicas of Deployments as they are (children left alone), no more than each asks for. */
    private static int readyOfDeployments(List<Deployment> deployments) {
        int ready = 0;
        for (Deployment d : deployments) {
            if (d.getStatus() != null && d.getStatus().getReadyReplicas() != null) {
                ready += Math.min(d.getStatus().getReadyReplicas(), d.getSpec().getReplicas());
            }
        }
        return ready;
    }

    private static int readyOfWorks(List<ServingWork> works) {
        return readyOfWorks(works, works);
    }

    /** Ready replicas the agents report for each work, no more than the work asks for once applied. */
    private static int readyOfWorks(List<ServingWork> desired, List<ServingWork> observed) {
        Map<String, ServingWork> byNamespace = new HashMap<>();
        observed.forEach(w -> byNamespace.put(w.getMetadata().getNamespace(), w));
        int ready = 0;
        for (ServingWork w : desired) {
            ServingWork seen = byNamespace.get(w.getMetadata().getNamespace());
            if (seen != null && seen.getStatus() != null && seen.getStatus().readyReplicas != null
                    && w.getSpec() != null && w.getSpec().replicas != null) {
                ready += Math.min(seen.getStatus().readyReplicas, w.getSpec().replicas);
            }
        }
        return ready;
    }
}
