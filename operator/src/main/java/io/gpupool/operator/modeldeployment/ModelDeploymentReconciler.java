package io.gpupool.operator.modeldeployment;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ReplicaCounts;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.admission.Handover;
import io.gpupool.core.gateway.ModelCatalog;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.core.status.Conditions;
import io.gpupool.core.validation.ModelDeploymentValidator;
import io.gpupool.operator.events.EventRecorder;
import io.gpupool.operator.scheduling.Admission;
import io.gpupool.operator.scheduling.PoolRebalancer;
import io.gpupool.operator.scheduling.PoolScheduler;
import io.gpupool.operator.Role;
import io.gpupool.operator.cache.WithoutManagedFields;
import io.quarkus.arc.lookup.LookupIfProperty;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.PrimaryToSecondaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;

/**
 * Takes a ModelDeployment from apply to serving: resolves its organization from the namespace, validates it, asks the
 * {@link PoolScheduler} for GPUs, applies the serving Deployments and Service (dependents), and reports status. The
 * workflow is invoked explicitly because what it renders depends on the admission decided here.
 */
@Workflow(explicitInvocation = true, dependents = {
        @Dependent(name = "deployments", type = ServingDeploymentsDependent.class),
        @Dependent(name = "service", type = ServingServiceDependent.class) })
@LookupIfProperty(name = Role.PROPERTY, stringValue = Role.OPERATOR, lookupIfMissing = true)
@ControllerConfiguration(name = ModelDeploymentReconciler.NAME,
        informer = @Informer(itemStore = WithoutManagedFields.class))
public class ModelDeploymentReconciler implements Reconciler<ModelDeployment>, Cleaner<ModelDeployment> {

    public static final String NAME = "modeldeployment";
    static final String SERVING_SELECTOR = ApiGroup.MANAGED_BY_LABEL + "=" + ApiGroup.MANAGED_BY
            + ",app.kubernetes.io/component=model-server";
    static final String LOCAL_PLACEMENTS = "localPlacements";
    static final String SETTINGS = "settings";
    static final String NO_ORGANIZATION = "NoOrganization";
    /**
     * Field manager of the status when it is written with server-side apply. The controller's own manager (its name)
     * applies the finalizer, and the dependents; the status gets a manager of its own because API servers before 1.22
     * do not record which subresource a managed-fields entry belongs to: an apply to /status and an apply to the object
     * under the same manager replace each other's ownership. And only the status is sent: on those servers an apply to
     * /status that carries the spec takes ownership of the spec away from the user (the values are reset, the
     * ownership is not), so their next {@code kubectl apply --server-side} would conflict with the operator.
     */
    public static final String STATUS_FIELD_MANAGER = "gpupool-operator-status";

    private static final Logger LOG = Logger.getLogger(ModelDeploymentReconciler.class);

    private final PoolScheduler scheduler;
    private final PoolRebalancer rebalancer;
    private final EventRecorder events;
    private final Clock clock;
    private final String tokenReaderRole;
    private final String serviceAccount;
    private volatile InformerPoolView view;
    private volatile ServedNames servedNames;
    /** The pool gateway's base URL (…/v1): ModelDeployments' endpoint when a gateway runs. */
    @ConfigProperty(name = "gpupool.gateway.url")
    Optional<String> gatewayUrl = Optional.empty();

    /**
     * @param tokenReaderRole the ClusterRole a namespace binds to let the operator read its models' tokens
     * @param serviceAccount  the operator's ServiceAccount, namespace:name (for the command a message suggests)
     */
    @Inject
    public ModelDeploymentReconciler(PoolScheduler scheduler, PoolRebalancer rebalancer, EventRecorder events,
            Clock clock,
            @ConfigProperty(name = "gpupool.model-token-reader-cluster-role", defaultValue = "gpupool-model-token-reader")
            String tokenReaderRole,
            @ConfigProperty(name = "gpupool.operator-service-account", defaultValue = "gpupool-system:gpupool")
            String serviceAccount) {
        this.scheduler = scheduler;
        this.rebalancer = rebalancer;
        this.events = events;
        this.clock = clock;
        this.tokenReaderRole = tokenReaderRole;
        this.serviceAccount = serviceAccount;
    }

    /**
     * The pool inputs (namespaces, GpuNodes, GpuClasses, Organizations, the GpuPool, ContributedClusters) are read from
     * the {@link InformerPoolView}, never as secondary resources of a ModelDeployment. Saying so with a
     * primary-to-secondary mapper turns off JOSDK's secondary-to-primary index, which calls the secondary-to-primary
     * mappers below for every event before any filter: each status write to a GpuNode or Organization then asked for a
     * whole-pool rebalancing cycle (a quarter of the operator's CPU in a burst of 4,500 applies), took the scheduler's
     * lock on the informer's thread, and linked every waiting ModelDeployment to every GpuNode in the index. With it,
     * the mappers run only for events the filters accept.
     */
    private static final PrimaryToSecondaryMapper<ModelDeployment> READ_FROM_THE_VIEW = md -> Set.of();

    /** An informer of a pool input: read from the view ({@link #READ_FROM_THE_VIEW}), cached without managed fields. */
    private static <R extends HasMetadata> InformerEventSourceConfiguration.Builder<R> poolInput(Class<R> type,
            String name) {
        return cached(type, name).withPrimaryToSecondaryMapper(READ_FROM_THE_VIEW);
    }

    /** An informer of ModelDeployment secondaries, cached without managed fields ({@link WithoutManagedFields}). */
    private static <R extends HasMetadata> InformerEventSourceConfiguration.Builder<R> cached(Class<R> type,
            String name) {
        return InformerEventSourceConfiguration.from(type, ModelDeployment.class).withName(name)
                .withItemStore(new WithoutManagedFields<>());
    }

    @Override
    public List<EventSource<?, ModelDeployment>> prepareEventSources(EventSourceContext<ModelDeployment> context) {
        var primaries = context.getPrimaryCache();
        var namespaces = new InformerEventSource<>(poolInput(Namespace.class, "namespaces")
                .withLabelSelector(ApiGroup.ORGANIZATION_LABEL)
                .withSecondaryToPrimaryMapper(ns -> {
                    rebalancer.request(); // organizations' member counts change with their namespaces
                    return primaries.list(ns.getMetadata().getName()).map(ResourceID::fromResource)
                            .collect(Collectors.toSet());
                })
                .build(), context);
        var gpuNodes = new InformerEventSource<>(poolInput(GpuNode.class, "gpunodes")
                // Status alone (the pool's own figures, a live node's heartbeat) changes nothing; a heartbeat that
                // revives a node the last cycle found gone does. Every heartbeat is noted on the pool's own clock.
                .withOnAddFilter(n -> {
                    scheduler.observe(n);
                    return true;
                })
                .withOnUpdateFilter((now, before) -> {
                    scheduler.observe(now);
                    return specChanged(now, before)
                            || (now.getSpec() != null && scheduler.goneNodes().contains(PoolInputs.nodeKey(now)));
                })
                .withSecondaryToPrimaryMapper(n -> affected(n.getSpec() == null ? null
                        : scheduler.onNode(new io.gpupool.core.model.NodeKey(n.getSpec().cluster, n.getSpec().nodeName))))
                .build(), context);
        var gpuClasses = new InformerEventSource<>(poolInput(GpuClass.class, "gpuclasses")
                .withOnUpdateFilter(ModelDeploymentReconciler::specChanged)
                .withSecondaryToPrimaryMapper(c -> affected(null))
                .build(), context);
        var organizations = new InformerEventSource<>(poolInput(Organization.class, "organizations")
                .withOnUpdateFilter(ModelDeploymentReconciler::specChanged)
                .withSecondaryToPrimaryMapper(org -> affected(scheduler.workloads().stream()
                        .filter(w -> org.getMetadata().getName().equals(w.organization()))
                        .map(w -> w.id()).collect(Collectors.toSet())))
                .build(), context);
        var pools = new InformerEventSource<>(poolInput(GpuPool.class, "gpupools")
                .withOnUpdateFilter(ModelDeploymentReconciler::specChanged)
                .withSecondaryToPrimaryMapper(p -> affected(null))
                .build(), context);
        var pods = new InformerEventSource<>(cached(Pod.class, "pods")
                .withLabelSelector(SERVING_SELECTOR)
                .withSecondaryToPrimaryMapper(pod -> {
                    String md = pod.getMetadata().getLabels().get(ApiGroup.MODEL_DEPLOYMENT_LABEL);
                    return md == null ? Set.of() : Set.of(new ResourceID(md, pod.getMetadata().getNamespace()));
                })
                .build(), context);
        var clusters = new InformerEventSource<>(poolInput(ContributedCluster.class, "contributedclusters")
                .withOnUpdateFilter(ModelDeploymentReconciler::specChanged)
                .withSecondaryToPrimaryMapper(c -> affected(null))
                .build(), context);
        var works = new InformerEventSource<>(cached(ServingWork.class, "servingworks")
                .withLabelSelector(ApiGroup.MANAGED_BY_LABEL + "=" + ApiGroup.MANAGED_BY)
                .withSecondaryToPrimaryMapper(ServingWorks::owner)
                .build(), context);
        var requeue = new SimpleInboundEventSource<ModelDeployment>("scheduler");
        scheduler.onRequeue(id -> requeue.propagateEvent(new ResourceID(id.name(), id.namespace())));
        this.servedNames = ServedNames.on(primaries, requeue::propagateEvent);
        this.view = new InformerPoolView(namespaces, gpuNodes, gpuClasses, organizations, pools, pods, clusters, works,
                primaries);
        rebalancer.attach(view);
        return List.of(namespaces, gpuNodes, gpuClasses, organizations, pools, pods, clusters, works, requeue);
    }

    /**
     * Pool inputs whose status alone changed (the status publisher writes it after every cycle) decide nothing:
     * reacting to them would wake every waiting ModelDeployment after every cycle.
     */
    static boolean specChanged(HasMetadata now, HasMetadata before) {
        return !java.util.Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
                || !java.util.Objects.equals(now.getMetadata().getLabels(), before.getMetadata().getLabels());
    }

    /**
     * A pool input changed: ask for a rebalancing cycle (which requeues every ModelDeployment whose admission it
     * changes) and wake the ModelDeployments that wait for GPUs or that the change touches directly.
     */
    private Set<ResourceID> affected(Set<WorkloadId> touched) {
        rebalancer.request();
        Set<WorkloadId> ids = new HashSet<>(scheduler.waiting());
        if (touched != null) {
            ids.addAll(touched);
        }
        return ids.stream().map(id -> new ResourceID(id.name(), id.namespace())).collect(Collectors.toSet());
    }

    @Override
    public UpdateControl<ModelDeployment> reconcile(ModelDeployment md, Context<ModelDeployment> context) {
        ModelDeploymentStatus previous = md.getStatus() == null ? new ModelDeploymentStatus() : md.getStatus();
        StatusBuilder status = new StatusBuilder(md, previous, clock);
        ServingSettings settings = ServingSettings.from(view.pool().map(GpuPool::getSpec).orElse(null));
        WorkloadId id = Workloads.id(md);

        String organization = view.organizationOf(md.getMetadata().getNamespace()).orElse(null);
        List<String> problems = ModelDeploymentValidator.validate(md.getMetadata().getName(), md.getSpec());
        Admission admission;
        if (organization == null || view.organization(organization).isEmpty()) {
            String message = organization == null
                    ? "Namespace '" + md.getMetadata().getNamespace() + "' has no " + ApiGroup.ORGANIZATION_LABEL
                            + " label, so this ModelDeployment belongs to no organization. Ask a pool admin to label "
                            + "the namespace with your organization."
                    : "Organization '" + organization + "' (from the namespace label) does not exist. Ask a pool "
                            + "admin to create it.";
            admission = scheduler.schedule(Workloads.frozen(md, organization, 1, List.of(), List.of()), view);
            status.notAdmitted(NO_ORGANIZATION, message, admission, "Pending");
            events.warningOnce(md, NO_ORGANIZATION, message);
        } else if (!problems.isEmpty()) {
            String message = String.join(" ", problems);
            int gpus = md.getSpec() != null && md.getSpec().gpu != null && md.getSpec().gpu.count != null
                    ? Math.max(1, md.getSpec().gpu.count) : 1;
            admission = scheduler.schedule(Workloads.frozen(md, organization, gpus, List.of(), List.of()), view);
            status.notAdmitted(Conditions.INVALID_SPEC, message, admission, "Failed");
            status.organization(organization);
            events.warningOnce(md, Conditions.INVALID_SPEC, message);
        } else {
            admission = scheduler.schedule(Workloads.demand(md, organization, List.of(), List.of()), view);
            status.organization(organization);
            status.estimatedMemoryMiB(Workloads.requiredMemoryMiB(md.getSpec()));
            status.admission(admission);
            if (admission.pending() != null) {
                events.warningOnce(md, admission.pending().reason(), admission.pending().message());
            }
            if (admission.preempted() != null && !Objects.equals(admission.preempted(),
                    Conditions.find(previous.conditions, Conditions.PREEMPTED).map(c -> c.getMessage()).orElse(null))) {
                events.warning(md, "Preempted", admission.preempted());
            }
        }

        // Only invalid objects skip the workflow: a bad edit must never take running replicas down.
        List<ServingWork> works = view.servingWorks(md.getMetadata().getNamespace(), md.getMetadata().getName());
        Instant lookAgain = null;
        if (problems.isEmpty() && organization != null) {
            HandoverPlan handover = handover(md, admission, context, works);
            status.handover(handover.placements());
            List<Placement> running = new ArrayList<>(admission.placements());
            running.addAll(handover.placements());
            List<Placement> local = running.stream()
                    .filter(p -> InformerPoolView.LOCAL_CLUSTER.equals(p.cluster)).toList();
            var workflow = context.managedWorkflowAndDependentResourceContext();
            workflow.put(LOCAL_PLACEMENTS, local);
            workflow.put(SETTINGS, settings);
            workflow.reconcileManagedWorkflow();
            // Replicas placed on contributed clusters: the model's token where they need it, and one ServingWork per
            // cluster, in its hub namespace.
            Instant retry = shareCredentials(md, running, works, status, context);
            works = ServingWorks.apply(context.getClient(), md, organization, running, settings, works,
                    scheduler.goneNodes());
            lookAgain = handover.deadline() == null || (retry != null && retry.isBefore(handover.deadline())) ? retry
                    : handover.deadline();
        }
        int ready = context.getSecondaryResourcesAsStream(Deployment.class)
                .filter(d -> d.getStatus() != null && d.getStatus().getReadyReplicas() != null)
                .mapToInt(d -> Math.min(d.getStatus().getReadyReplicas(), d.getSpec().getReplicas()))
                .sum() + ServingWorks.readyReplicas(works);
        servedName(md, previous, status);
        ModelDeploymentStatus next = status.readiness(ready, endpoint(md)).build();
        UpdateControl<ModelDeployment> control = UpdateControl.noUpdate();
        if (!StatusBuilder.sameStatus(previous, next)) {
            writeStatus(md, next, context);
        }
        // A handover ends at its deadline even if nothing else happens by then.
        return lookAgain == null ? control
                : control.rescheduleAfter(Duration.between(clock.instant(), lookAgain).plusSeconds(1));
    }

    /** Sets the pool gateway's base URL (…/v1), as gpupool.gateway.url does (for operators built by hand). */
    public ModelDeploymentReconciler gatewayUrl(String url) {
        this.gatewayUrl = Optional.ofNullable(url);
        return this;
    }

    /** The pool gateway's URL when one runs, else the model's own Service. */
    private String endpoint(ModelDeployment md) {
        return gatewayUrl.filter(u -> !u.isBlank()).orElseGet(() -> ServingRenderer.endpoint(md));
    }

    /**
     * Whether this ModelDeployment holds its served name (the older claimant keeps a name), and the claimants of a
     * name it held until now look again.
     */
    private void servedName(ModelDeployment md, ModelDeploymentStatus previous, StatusBuilder status) {
        String name = ModelCatalog.servedName(md);
        var holder = servedNames.heldByAnother(md);
        if (holder.isPresent()) {
            String by = holder.get().getMetadata().getNamespace() + "/" + holder.get().getMetadata().getName();
            String message = "The served model name '" + name + "' is held by ModelDeployment " + by + " (created "
                    + "earlier), so the gateway does not route it here. Set spec.servedModelName to a name of your "
                    + "own; the default, <namespace>/<name>, is always free.";
            status.servedName(null, false, ServedNames.TAKEN, message);
            events.warningOnce(md, ServedNames.TAKEN, message);
        } else {
            status.servedName(name, true, ServedNames.HELD, "Clients call this model as '" + name + "'.");
        }
        if (previous.servedModelName != null && !previous.servedModelName.equals(holder.isPresent() ? null : name)) {
            servedNames.released(previous.servedModelName, md);
        }
    }

    private static int desiredReplicas(ModelDeployment md) {
        return md.getSpec().replicas == null ? 1 : md.getSpec().replicas;
    }

    /**
     * Replicas that keep serving on nodes being withdrawn until their replacements are ready, and when the earliest of
     * those handovers ends (null when there is none).
     */
    record HandoverPlan(List<Placement> placements, Instant deadline) {
    }

    private HandoverPlan handover(ModelDeployment md, Admission admission, Context<ModelDeployment> context,
            List<ServingWork> works) {
        Map<NodeKey, Instant> deadlines = handoverDeadlines();
        if (deadlines.isEmpty()) {
            return new HandoverPlan(List.of(), null);
        }
        Map<NodeKey, Integer> kept = Handover.keep(desiredReplicas(md),
                readyOn(admission.placements(), readyByNode(context, works)),
                stoppingOn(admission, deadlines.keySet()), deadlines, clock.instant());
        return new HandoverPlan(handoverPlacements(kept), Handover.nextDeadline(kept, deadlines));
    }

    /**
     * Shares the model's token with the contributed clusters that run its replicas (and takes it back from the others),
     * and reports it in the status.
     *
     * @return when to try again because the token could not be shared, or null
     */
    private Instant shareCredentials(ModelDeployment md, List<Placement> running, List<ServingWork> works,
            StatusBuilder status, Context<ModelDeployment> context) {
        var credentials = ModelCredentials.share(context.getClient(), md, RemoteWorkRenderer.remoteClusters(running),
                ServingWorks.clusters(works), "kubectl create rolebinding gpupool-model-token-reader -n "
                        + md.getMetadata().getNamespace() + " --clusterrole=" + tokenReaderRole
                        + " --serviceaccount=" + serviceAccount);
        status.credentials(credentials);
        if (credentials == null || credentials.shared()) {
            return null;
        }
        events.warningOnce(md, credentials.reason(), credentials.message());
        // Nothing the operator watches tells it when the Secret or the permission to read it appears.
        return clock.instant().plus(ModelCredentials.RETRY);
    }

    /** When the handover on each node being withdrawn ends. */
    private Map<NodeKey, Instant> handoverDeadlines() {
        Duration handover = PoolInputs.withdrawalHandover(view.pool().map(GpuPool::getSpec).orElse(null));
        Map<NodeKey, Instant> deadlines = new HashMap<>();
        scheduler.withdrawing().forEach((node, w) -> deadlines.put(node, w.since().plus(handover)));
        return deadlines;
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

    private List<Placement> handoverPlacements(Map<NodeKey, Integer> kept) {
        List<Placement> out = new ArrayList<>();
        kept.forEach((node, replicas) -> {
            var w = scheduler.withdrawing().get(node);
            out.add(new Placement(node.cluster(), node.node(), w == null ? null : w.gpuClass(), replicas));
        });
        return out;
    }

    /** Ready replicas per node: the pool's own Deployments, and what agents report for contributed clusters. */
    private static Map<NodeKey, Integer> readyByNode(Context<ModelDeployment> context, List<ServingWork> works) {
        Map<NodeKey, Integer> ready = new HashMap<>();
        context.getSecondaryResourcesAsStream(Deployment.class).forEach(d -> {
            var annotations = d.getMetadata().getAnnotations();
            String node = annotations == null ? null : annotations.get(ServingRenderer.NODE_ANNOTATION);
            if (node != null && d.getStatus() != null && d.getStatus().getReadyReplicas() != null) {
                ready.merge(new NodeKey(InformerPoolView.LOCAL_CLUSTER, node), d.getStatus().getReadyReplicas(),
                        Integer::sum);
            }
        });
        ServingWorks.readyByNode(works).forEach((node, n) -> ready.merge(node, n, Integer::sum));
        return ready;
    }

    private static int readyOn(List<Placement> placements, Map<NodeKey, Integer> readyByNode) {
        int ready = 0;
        for (Placement p : placements) {
            ready += Math.min(p.replicas, readyByNode.getOrDefault(new NodeKey(p.cluster, p.node), 0));
        }
        return ready;
    }

    @Override
    public DeleteControl cleanup(ModelDeployment md, Context<ModelDeployment> context) {
        if (view != null) {
            scheduler.release(Workloads.id(md), view);
            List<ServingWork> works = view.servingWorks(md.getMetadata().getNamespace(), md.getMetadata().getName());
            ModelCredentials.forgetEverywhere(context.getClient(), md, ServingWorks.clusters(works));
            ServingWorks.deleteAll(context.getClient(), works);
        }
        if (servedNames != null && md.getStatus() != null) {
            servedNames.released(md.getStatus().servedModelName, md);
        }
        events.forget(md);
        return DeleteControl.defaultDelete();
    }

    @Override
    public ErrorStatusUpdateControl<ModelDeployment> updateErrorStatus(ModelDeployment md,
            Context<ModelDeployment> context, Exception e) {
        LOG.warnf(e, "Reconciling ModelDeployment %s/%s failed", md.getMetadata().getNamespace(),
                md.getMetadata().getName());
        ModelDeploymentStatus previous = md.getStatus() == null ? new ModelDeploymentStatus() : md.getStatus();
        ModelDeploymentStatus next = new StatusBuilder(md, previous, clock).reconcileError(e.getMessage()).build();
        try {
            writeStatus(md, next, context);
        } catch (RuntimeException statusFailure) {
            LOG.debugf("Could not record the error in the status of %s/%s: %s", md.getMetadata().getNamespace(),
                    md.getMetadata().getName(), statusFailure.getMessage());
        }
        return ErrorStatusUpdateControl.noStatusUpdate();
    }

    /** Whether the primary resource is written with server-side apply (quarkus.operator-sdk.enable-ssa, default on). */
    private static boolean serverSideApply(Context<ModelDeployment> context) {
        return context.getControllerConfiguration().getConfigurationService().useSSAToPatchPrimaryResource();
    }

    /**
     * Writes the status and caches the result so that the next reconcile sees it: with server-side apply (production)
     * the status alone, under its own field manager; otherwise the whole status replaced (a PUT of /status, retried
     * on a conflict). Never a JSON patch computed against the cached object: when the cache lags behind a write, its
     * operations point at list entries that are no longer there.
     */
    private static void writeStatus(ModelDeployment md, ModelDeploymentStatus status, Context<ModelDeployment> context) {
        if (serverSideApply(context)) {
            applyStatus(md, status, context);
        } else {
            PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(md, context, current -> {
                current.setStatus(status);
                return current;
            });
        }
    }

    /**
     * Applies the status alone under {@link #STATUS_FIELD_MANAGER}, with optimistic locking on the version this
     * reconcile read.
     */
    private static void applyStatus(ModelDeployment md, ModelDeploymentStatus status, Context<ModelDeployment> context) {
        ModelDeployment statusOnly = new ModelDeployment();
        statusOnly.setMetadata(new ObjectMetaBuilder().withName(md.getMetadata().getName())
                .withNamespace(md.getMetadata().getNamespace()).build());
        statusOnly.setStatus(status);
        PatchContext apply = new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
                .withFieldManager(STATUS_FIELD_MANAGER).withForce(true).build();
        PrimaryUpdateAndCacheUtils.updateAndCacheResource(md, context, current -> statusOnly,
                patch -> context.getClient().resource(patch).subresource("status").patch(apply));
    }
}
