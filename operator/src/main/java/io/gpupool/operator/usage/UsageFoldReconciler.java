package io.gpupool.operator.usage;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationUsage;
import io.gpupool.core.gateway.metering.UsageTotals;
import io.gpupool.operator.Role;
import io.gpupool.operator.cache.WithoutManagedFields;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.quarkus.arc.lookup.LookupIfProperty;

/**
 * Folds the gateway's usage reports into Organization status.usage: the sum over every report slot (slots only grow,
 * each count is in one slot), so the totals are durable (they are in the API server as soon as a gateway wrote them)
 * and writing them again never counts anything twice. Runs where the operator's controllers run (the leader), whenever
 * a report or an Organization changes: at most as often as the gateways write, every few seconds. It writes
 * status.usage alone (a JSON patch of that field), which the pool's status publisher never sends.
 */
@LookupIfProperty(name = Role.PROPERTY, stringValue = Role.OPERATOR, lookupIfMissing = true)
@ControllerConfiguration(name = UsageFoldReconciler.NAME, informer = @Informer(itemStore = WithoutManagedFields.class))
public class UsageFoldReconciler implements Reconciler<GatewayReport> {

    public static final String NAME = "usagefold";

    private static final Logger LOG = Logger.getLogger(UsageFoldReconciler.class);
    private static final KubernetesSerialization JSON = new KubernetesSerialization();

    private final Optional<String> gatewayNamespace;
    private InformerEventSource<Organization, GatewayReport> organizations;

    /** @param gatewayNamespace where the gateway writes its reports (only those count); empty: the operator's own */
    @Inject
    public UsageFoldReconciler(@ConfigProperty(name = "gpupool.gateway.namespace") Optional<String> gatewayNamespace) {
        this.gatewayNamespace = gatewayNamespace;
    }

    @Override
    public List<EventSource<?, GatewayReport>> prepareEventSources(EventSourceContext<GatewayReport> context) {
        var primaries = context.getPrimaryCache();
        organizations = new InformerEventSource<>(InformerEventSourceConfiguration
                .from(Organization.class, GatewayReport.class).withName("usagefold-organizations")
                .withItemStore(new WithoutManagedFields<>())
                // A new Organization, or one whose usage someone else changed: fold again (through any report).
                .withOnUpdateFilter((now, before) -> !Objects.equals(usage(now), usage(before)))
                .withSecondaryToPrimaryMapper(org -> primaries.list().findFirst().map(r -> Set.of(ResourceID
                        .fromResource(r))).orElse(Set.of()))
                .build(), context);
        return List.of(organizations);
    }

    @Override
    public UpdateControl<GatewayReport> reconcile(GatewayReport report, Context<GatewayReport> context) {
        String ns = gatewayNamespace.orElseGet(() -> context.getClient().getNamespace());
        List<GatewayReport> trusted = context.getPrimaryCache().list()
                .filter(r -> ns.equals(r.getMetadata().getNamespace())).toList();
        UsageTotals totals = UsageTotals.of(trusted);
        for (Organization org : organizations.list().toList()) {
            OrganizationUsage next = totals.organization(org.getMetadata().getName());
            if (next != null && !next.equals(usage(org))) {
                write(context.getClient(), org, next);
            }
        }
        return UpdateControl.noUpdate();
    }

    private static OrganizationUsage usage(Organization org) {
        return org.getStatus() == null ? null : org.getStatus().usage;
    }

    /** Patches status.usage alone (the status publisher owns the other fields). */
    private static void write(KubernetesClient client, Organization org, OrganizationUsage usage) {
        var status = client.resource(org).subresource("status");
        try {
            if (org.getStatus() == null) {
                status.patch(PatchContext.of(PatchType.JSON_MERGE), JSON.asJson(Map.of("status", Map.of("usage", usage))));
            } else {
                status.patch(PatchContext.of(PatchType.JSON), JSON.asJson(List.of(Map.of("op", "add", "path",
                        "/status/usage", "value", usage))));
            }
        } catch (KubernetesClientException e) {
            // The next report (a few seconds) or Organization event folds again.
            LOG.debugf("Could not write the usage of organization %s: %s", org.getMetadata().getName(), e.getMessage());
        }
    }
}
