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

import jakarta.enterprise.inject.Typed;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.HasMetadata;
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
import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.autoscaling.Autoscaler;
import io.gpupool.core.autoscaling.AutoscalingPolicy;
import io.gpupool.core.autoscaling.ModelLoad;
import io.gpupool.core.autoscaling.ScaleDecision;
import io.gpupool.core.gateway.metering.ReportSlots;
import io.gpupool.core.inventory.Membership;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.inventory.Sharing;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.render.ServingAccess;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.core.serving.Admission;
import io.gpupool.core.serving.ModelToken;
import io.gpupool.core.serving.RemoteWork;
import io.gpupool.core.serving.ServingDecision;
import io.gpupool.core.serving.ServingInputs;
import io.gpupool.core.serving.ServingPlan;
import io.gpupool.core.serving.StatusBuilder;
import io.gpupool.core.status.StatusDiff;
import io.gpupool.core.validation.ModelDeploymentValidator;
import io.gpupool.operator.Role;
import io.gpupool.operator.cache.CachedModelDeployments;
import io.gpupool.operator.cache.WithoutManagedFields;
import io.gpupool.operator.events.EventRecorder;
import io.gpupool.operator.scheduling.PoolRebalancer;
import io.gpupool.operator.scheduling.PoolScheduler;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.PrimaryToSecondaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.quarkus.arc.lookup.LookupIfProperty;

/**
 * Takes a ModelDeployment from apply to serving: resolves its organization from the namespace, validates it, asks the
 * {@link PoolScheduler} for GPUs, applies the serving Deployments and Service and creates the model-cache claims they
 * mount ({@link ServingChildren}, after the admission: what they render depends on it), and reports status; when it
 * goes, hands its GPUs on ({@link #depart}). Its finalizer only where it is needed ({@link ModelDeploymentFinalizer}).
 */
@Singleton
@Typed(ModelDeploymentReconciler.class) // registered by ModelDeploymentRegistration, not by the extension
@LookupIfProperty(name = Role.PROPERTY, stringValue = Role.OPERATOR, lookupIfMissing = true)
@ControllerConfiguration(name = ModelDeploymentReconciler.NAME, triggerReconcilerOnAllEvents = true,
        informer = @Informer(itemStore = CachedModelDeployments.class))
public class ModelDeploymentReconciler implements Reconciler<ModelDeployment> {

    public static final String NAME = "modeldeployment";
    static final String SERVING_SELECTOR = ApiGroup.MANAGED_BY_LABEL + "=" + ApiGroup.MANAGED_BY
            + ",app.kubernetes.io/component=model-server";
    static final String LOCAL_PLACEMENTS = "localPlacements";
    static final String SETTINGS = "settings";
    static final String ACCESS = "access";
    /**
     * Field manager of the status when it is written with server-side apply. The controller's own manager (its name)
     * applies the finalizer ({@link ModelDeploymentFinalizer}), and the dependents; the status gets a manager of its
     * own because API servers before 1.22 do not record which subresource a managed-fields entry belongs to: an apply
     * to /status and an apply to the object under the same manager replace each other's ownership. And only the
     * status is sent: on those servers an apply to /status that carries the spec takes ownership of the spec away from
     * the user (the values are reset, the ownership is not), so their next {@code kubectl apply --server-side} would
     * conflict with the operator.
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
    private final ServingChildren servingChildren = new ServingChildren();
    /** The pool gateway's base URL (…/v1): ModelDeployments' endpoint when a gateway runs. */
    @ConfigProperty(name = "gpupool.gateway.url")
    Optional<String> gatewayUrl = Optional.empty();
    /**
     * The namespace the gateway runs in and writes its reports to (the replicas it reaches; none read when absent):
     * serving pods admit connections only from the gateway's pods there (their NetworkPolicy; default
     * {@value ServingAccess#DEFAULT_GATEWAY_NAMESPACE}).
     */
    @ConfigProperty(name = "gpupool.gateway.namespace")
    Optional<String> gatewayNamespace = Optional.empty();
    private volatile InformerEventSource<GatewayReport, ModelDeployment> gatewayReports;

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
        ServingWarmUp.start(context.getClient().getKubernetesSerialization());
        var primaries = context.getPrimaryCache();
        var gpuNodes = new InformerEventSource<>(poolInput(GpuNode.class, "gpunodes")
                // Status alone (the pool's own figures, a live node's heartbeat) changes nothing; a heartbeat that
                // revives a node the last cycle found gone does. Every heartbeat of a believed GpuNode is noted on the
                // pool's own clock; one the pool does not believe wakes nothing and touches no node's timers, unless it
                // was believed until now (the cycle must drop it).
                .withOnAddFilter(n -> scheduler.observe(n, view))
                .withOnUpdateFilter((now, before) -> {
                    if (!scheduler.observe(now, view)) {
                        return PoolScheduler.trusted(before, view);
                    }
                    return specChanged(now, before)
                            || (now.getSpec() != null && scheduler.goneNodes().contains(PoolInputs.nodeKey(now)));
                })
                .withOnDeleteFilter((n, unknown) -> PoolScheduler.trusted(n, view))
                .withSecondaryToPrimaryMapper(n -> affected(n.getSpec() == null ? null
                        : scheduler.onNode(new io.gpupool.core.model.NodeKey(n.getSpec().cluster, n.getSpec().nodeName))))
                .build(), context);
        var gpuClasses = new InformerEventSource<>(poolInput(GpuClass.class, "gpuclasses")
                .withOnUpdateFilter(ModelDeploymentReconciler::specChanged)
                .withSecondaryToPrimaryMapper(c -> affected(null))
                .build(), context);
        // An Organization's spec decides its quota and which namespaces are its: wake its own ModelDeployments (a
        // namespace it dropped now belongs to no one) and those of every namespace it lists (one it added is now its,
        // or contested).
        var organizations = new InformerEventSource<>(poolInput(Organization.class, "organizations")
                .withOnUpdateFilter(ModelDeploymentReconciler::specChanged)
                .withSecondaryToPrimaryMapper(org -> {
                    // ... and those that belong to no organization: a namespace this one stopped contesting is
                    // another's again.
                    Set<ResourceID> ids = new HashSet<>(affected(scheduler.workloads().stream()
                            .filter(w -> w.organization() == null
                                    || org.getMetadata().getName().equals(w.organization()))
                            .map(w -> w.id()).collect(Collectors.toSet())));
                    if (org.getSpec() != null && org.getSpec().namespaces != null) {
                        org.getSpec().namespaces.forEach(ns -> primaries.list(ns).map(ResourceID::fromResource)
                                .forEach(ids::add));
                    }
                    return ids;
                })
                .build(), context);
        // The GpuPool's spec is rendered into every ModelDeployment's children (serving images; who may connect:
        // servingAccess, in the namespace's NetworkPolicy), which a rebalancing cycle alone would not re-render: it
        // requeues only the ModelDeployments whose admission changed. So every ModelDeployment reconciles again (a rare admin edit; each is answered from
        // the ledger, and children whose rendering is unchanged are not written).
        var pools = new InformerEventSource<>(poolInput(GpuPool.class, "gpupools")
                .withOnUpdateFilter(ModelDeploymentReconciler::specChanged)
                .withSecondaryToPrimaryMapper(p -> {
                    Set<ResourceID> ids = new HashSet<>(affected(null));
                    primaries.list().map(ResourceID::fromResource).forEach(ids::add);
                    return ids;
                })
                .build(), context);
        var pods = new InformerEventSource<>(cached(Pod.class, "pods")
                .withLabelSelector(SERVING_SELECTOR)
                // A pod of a deleted ModelDeployment is gone: the GPUs it held while it drained are free, and nothing
                // else would run the cycle that hands them on (or, for the pool's last ModelDeployment, that shows
                // its nodes' GPUs free again). Only on deletes. The rebalancer runs no cycle before every cache of
                // the view has synced, so a pod deleted while the operator starts cannot rebuild the ledger from an
                // empty primary cache.
                .withOnDeleteFilter((pod, unknown) -> {
                    String md = pod.getMetadata().getLabels().get(ApiGroup.MODEL_DEPLOYMENT_LABEL);
                    if (md != null && primaries.get(new ResourceID(md, pod.getMetadata().getNamespace())).isEmpty()) {
                        rebalancer.request();
                    }
                    return true;
                })
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
        this.view = new InformerPoolView(gpuNodes, gpuClasses, organizations, pools, pods, clusters, works, primaries);
        rebalancer.attach(view);
        List<EventSource<?, ModelDeployment>> sources = new ArrayList<>(List.of(gpuNodes, gpuClasses, organizations,
                pools, pods, clusters, works, requeue));
        sources.addAll(servingChildren.eventSources(context));
        if (gatewayUrl.isPresent() && gatewayNamespace.isPresent()) {
            // What the gateway reaches of each model; a report that changes only its counts changes no status.
            gatewayReports = new InformerEventSource<>(cached(GatewayReport.class, "gatewayreports")
                    .withNamespaces(Set.of(gatewayNamespace.get()))
                    .withPrimaryToSecondaryMapper(READ_FROM_THE_VIEW)
                    .withOnUpdateFilter((now, before) -> !Objects.equals(now.getSpec().models,
                            before.getSpec() == null ? null : before.getSpec().models))
                    .withSecondaryToPrimaryMapper(ModelDeploymentReconciler::reportedModels)
                    .build(), context);
            sources.add(gatewayReports);
        }
        return sources;
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

    /**
     * Named steps around one pure decision: who asks for what, the scheduler's admission, what runs now, then
     * {@link ServingDecision#decide} turns all of it into the children, the token's copies, the Events and the status,
     * which the remaining steps apply. Called for every event, the deletion of the ModelDeployment included
     * ({@code triggerReconcilerOnAllEvents}): one that is going only {@linkplain #depart departs}.
     */
    @Override
    public UpdateControl<ModelDeployment> reconcile(ModelDeployment md, Context<ModelDeployment> context) {
        if (context.isPrimaryResourceDeleted() || md.isMarkedForDeletion()) {
            depart(md, context);
            return UpdateControl.noUpdate();
        }
        // The one rule of membership (Membership): the Organization that lists the namespace, only pool admins write.
        Membership membership = view.membership();
        String organization = membership.organizationOf(md.getMetadata().getNamespace()).orElse(null);
        boolean organizationExists = organization != null;
        List<String> problems = ModelDeploymentValidator.validate(md.getMetadata().getName(), md.getSpec());
        Sharing sharing = view.sharingOf(md, organization);
        ScaleDecision scale = problems.isEmpty() ? autoscale(md) : null;
        Admission admission = scheduler.schedule(view.demandOf(md, scale), view);
        ServingInputs inputs = observe(md, organization, organizationExists, problems, context,
                membership.whyNoOrganization(md.getMetadata().getNamespace()).orElse(null), sharing).withScale(scale);
        ServingPlan plan = ServingDecision.decide(md, inputs, admission);
        if (plan.children() != null && plan.children().writeOutsideTheNamespace()) {
            md = ModelDeploymentFinalizer.ensure(md, context, serverSideApply(context));
        }
        plan = applyChildren(md, plan, inputs, admission, context);
        recordWarnings(md, plan.warnings());
        if (scale != null && scale.event() != null) {
            events.normal(md, scale.event().reason(), scale.event().message());
        }
        if (!StatusDiff.same(md.getStatus() == null ? new ModelDeploymentStatus() : md.getStatus(), plan.status())) {
            writeStatus(md, plan.status(), context);
        }
        releaseServedName(md, plan.status());
        // A handover ends at its deadline, and a token is looked for again, even if nothing else happens by then.
        return plan.lookAgain() == null ? UpdateControl.noUpdate()
                : UpdateControl.<ModelDeployment> noUpdate()
                        .rescheduleAfter(Duration.between(clock.instant(), plan.lookAgain()).plusSeconds(1));
    }

    /**
     * Sets the pool gateway's base URL (…/v1) and the namespace of its reports, as gpupool.gateway.url and
     * gpupool.gateway.namespace do (for operators built by hand).
     */
    public ModelDeploymentReconciler gateway(String url, String reportNamespace) {
        this.gatewayUrl = Optional.ofNullable(url);
        this.gatewayNamespace = Optional.ofNullable(reportNamespace);
        return this;
    }

    private static Set<ResourceID> reportedModels(GatewayReport report) {
        Set<ResourceID> out = new HashSet<>();
        if (report.getSpec() != null && report.getSpec().models != null) {
            for (var m : report.getSpec().models) {
                int slash = m.model == null ? -1 : m.model.indexOf('/');
                if (slash > 0) {
                    out.add(new ResourceID(m.model.substring(slash + 1), m.model.substring(0, slash)));
                }
            }
        }
        return out;
    }

    /** Ready replicas the gateway reaches: the most any live gateway process reports (null: no gateway). */
    private Integer reachable(ModelDeployment md) {
        var reports = gatewayReports;
        if (reports == null) {
            return null;
        }
        String id = md.getMetadata().getNamespace() + "/" + md.getMetadata().getName();
        int most = 0;
        for (GatewayReport r : reports.list().toList()) {
            if (r.getSpec() == null || r.getSpec().models == null || ReportSlots.lapsed(r.getSpec(), clock.instant())) {
                continue;
            }
            for (var m : r.getSpec().models) {
                if (id.equals(m.model)) {
                    most = Math.max(most, m.reachableReplicas);
                }
            }
        }
        return most;
    }

    /**
     * The autoscaling step: the load the gateway replicas report for this model, summed over their report slots, and
     * the autoscaler's decision from it (null when the ModelDeployment does not autoscale). Without a gateway no load
     * is known and the replicas stay where they are.
     */
    private ScaleDecision autoscale(ModelDeployment md) {
        AutoscalingPolicy policy = AutoscalingPolicy.of(md.getSpec());
        if (policy == null) {
            return null;
        }
        var reports = gatewayReports;
        Instant now = clock.instant();
        ModelLoad load = reports == null ? ModelLoad.NONE
                : ModelLoad.of(reports.list().toList(), md.getMetadata().getNamespace() + "/" + md.getMetadata().getName(),
                        now);
        ModelDeploymentStatus status = md.getStatus();
        int start = status == null || status.replicas == null ? 0 : status.replicas.admitted;
        return Autoscaler.decide(policy, status == null ? null : status.autoscaling, start, load, now);
    }

    /** The ModelDeployment (namespace/name) that holds this one's served name, or null when this one holds it. */
    private String servedNameHolder(ModelDeployment md) {
        return servedNames.heldByAnother(md).map(h -> h.getMetadata().getNamespace() + "/" + h.getMetadata().getName())
                .orElse(null);
    }

    /** A served name this ModelDeployment held until now is free: the others that claim it look again. */
    private void releaseServedName(ModelDeployment md, ModelDeploymentStatus next) {
        String before = md.getStatus() == null ? null : md.getStatus().servedModelName;
        if (before != null && !before.equals(next.servedModelName)) {
            servedNames.released(before, md);
        }
    }

    /**
     * What runs now, read after the admission: the cycle that produced it may have found nodes withdrawn or gone, and
     * replicas on them keep serving or are waited for accordingly.
     */
    private ServingInputs observe(ModelDeployment md, String organization, boolean organizationExists,
            List<String> problems, Context<ModelDeployment> context, String noOrganization, Sharing sharing) {
        String namespace = md.getMetadata().getNamespace();
        GpuPoolSpec pool = view.pool().map(GpuPool::getSpec).orElse(null);
        Map<List<String>, ModelToken> read = new HashMap<>();
        ModelToken.Reader tokens = (secret, key) -> read.computeIfAbsent(List.of(secret, key),
                k -> ModelCredentials.read(context.getClient(), md, secret, key));
        return new ServingInputs(organization, organizationExists, problems, ServingSettings.from(pool),
                scheduler.withdrawing(), PoolInputs.withdrawalHandover(pool),
                context.getSecondaryResourcesAsStream(Deployment.class).toList(),
                view.servingWorks(namespace, md.getMetadata().getName()), scheduler.goneNodes(), tokens,
                "kubectl create rolebinding gpupool-model-token-reader -n " + namespace + " --clusterrole="
                        + tokenReaderRole + " --serviceaccount=" + serviceAccount,
                Set.of(), clock).withGateway(gatewayUrl.filter(u -> !u.isBlank()).orElse(null), servedNameHolder(md),
                        reachable(md)).withTrust(noOrganization, sharing, ServingAccess.from(pool,
                                gatewayNamespace.orElse(ServingAccess.DEFAULT_GATEWAY_NAMESPACE)));
    }

    /**
     * Applies the children the plan names: the Deployments and Service of the pool's own cluster (dependents), the
     * token's copies in contributed clusters, their ServingWork. Writing a token can fail; the plan is then decided
     * again knowing it, for the status and the retry.
     */
    private ServingPlan applyChildren(ModelDeployment md, ServingPlan plan, ServingInputs inputs, Admission admission,
            Context<ModelDeployment> context) {
        ServingPlan.Children children = plan.children();
        if (children == null) {
            return plan; // invalid spec: a bad edit must never take running replicas down
        }
        var workflow = context.managedWorkflowAndDependentResourceContext();
        workflow.put(LOCAL_PLACEMENTS, children.localPlacements());
        workflow.put(SETTINGS, children.settings());
        workflow.put(ACCESS, inputs.access());
        servingChildren.reconcile(md, context);
        Set<String> failed = ModelCredentials.apply(context.getClient(), children.credentials());
        if (!failed.isEmpty()) {
            plan = ServingDecision.decide(md, inputs.withCredentialWriteFailures(failed), admission);
        }
        ServingWorks.apply(context.getClient(), children.works(), children.obsoleteWorks(), inputs.works());
        return plan;
    }

    private void recordWarnings(ModelDeployment md, List<ServingPlan.Warning> warnings) {
        for (ServingPlan.Warning w : warnings) {
            if (w.once()) {
                events.warningOnce(md, w.reason(), w.message());
            } else {
                events.warning(md, w.reason(), w.message());
            }
        }
    }

    /**
     * The ModelDeployment is going (marked for deletion) or gone: its GPUs are handed on at once (its pods drain on the
     * nodes' own account) and its served name is free; its children in its namespace go with it (owner references).
     * Only one with the finalizer wrote outside its namespace (it is put on before such a write): that is removed, then
     * the finalizer. So the deletion event that follows (its last state has no finalizer) only repeats the release,
     * which is idempotent, and makes no API call.
     */
    private void depart(ModelDeployment md, Context<ModelDeployment> context) {
        if (view != null) {
            scheduler.release(Workloads.id(md), view);
        }
        if (servedNames != null && md.getStatus() != null) {
            servedNames.released(md.getStatus().servedModelName, md);
        }
        events.forget(md);
        if (md.hasFinalizer(ModelDeploymentFinalizer.NAME) && view != null) {
            List<ServingWork> works = view.servingWorks(md.getMetadata().getNamespace(), md.getMetadata().getName());
            ModelCredentials.forgetEverywhere(context.getClient(), md, RemoteWork.clusters(works));
            ServingWorks.deleteAll(context.getClient(), works);
            ModelDeploymentFinalizer.remove(context.getClient(), md);
        }
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
