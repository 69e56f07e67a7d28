package io.gpupool.operator.apikey;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ApiKey;
import io.gpupool.api.v1alpha1.ApiKeyStatus;
import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.gateway.ApiKeys;
import io.gpupool.core.gateway.metering.UsageCounts;
import io.gpupool.core.inventory.Membership;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.status.Conditions;
import io.gpupool.operator.Role;
import io.gpupool.operator.cache.WithoutManagedFields;
import io.gpupool.operator.events.EventRecorder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.quarkus.arc.lookup.LookupIfProperty;

/**
 * Organization API keys for the pool's gateway. For each ApiKey it
 * <ul>
 * <li>decides the organization: the one that owns the key's namespace, by the pool's one membership rule
 * ({@link Membership#organizationOf});</li>
 * <li>generates the secret value once, into a new Secret of the key's namespace owned by the key (so it goes with
 * it), and keeps only its SHA-256 in status: the operator may create Secrets but never read one, and the gateway reads
 * only hashes;</li>
 * <li>says whether the gateway accepts it (Ready; NoOrganization, Expired), waking up at the expiry;</li>
 * <li>and reports its usage: the sum over the gateway's report slots, which only grow.</li>
 * </ul>
 */
@LookupIfProperty(name = Role.PROPERTY, stringValue = Role.OPERATOR, lookupIfMissing = true)
@ControllerConfiguration(name = ApiKeyReconciler.NAME, informer = @Informer(itemStore = WithoutManagedFields.class))
public class ApiKeyReconciler implements Reconciler<ApiKey> {

    public static final String NAME = "apikey";
    public static final String SECRET_KEY = "OPENAI_API_KEY";
    public static final String SECRET_BASE_URL = "OPENAI_BASE_URL";
    public static final String KEY_LABEL = "gpupool.io/api-key";
    static final String NO_ORGANIZATION = "NoOrganization";
    static final String EXPIRED = "Expired";
    static final String SECRET_FAILED = "SecretFailed";
    static final String ACTIVE = "Active";

    private static final Logger LOG = Logger.getLogger(ApiKeyReconciler.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Clock clock;
    private final EventRecorder events;
    private final Optional<String> gatewayUrl;
    private final Optional<String> gatewayNamespace;
    private InformerEventSource<Organization, ApiKey> organizations;
    private InformerEventSource<GatewayReport, ApiKey> reports;

    /**
     * @param gatewayUrl       the gateway's base URL (…/v1) for the Secret's OPENAI_BASE_URL, when known
     * @param gatewayNamespace where the gateway writes its reports (only those count); empty: the operator's own
     */
    @Inject
    public ApiKeyReconciler(Clock clock, EventRecorder events,
            @ConfigProperty(name = "gpupool.gateway.url") Optional<String> gatewayUrl,
            @ConfigProperty(name = "gpupool.gateway.namespace") Optional<String> gatewayNamespace) {
        this.clock = clock;
        this.events = events;
        this.gatewayUrl = gatewayUrl;
        this.gatewayNamespace = gatewayNamespace;
    }

    @Override
    public List<EventSource<?, ApiKey>> prepareEventSources(EventSourceContext<ApiKey> context) {
        var primaries = context.getPrimaryCache();
        organizations = new InformerEventSource<>(InformerEventSourceConfiguration.from(Organization.class, ApiKey.class)
                .withName("apikey-organizations").withItemStore(new WithoutManagedFields<>())
                .withOnUpdateFilter((now, before) -> !Objects.equals(now.getMetadata().getGeneration(),
                        before.getMetadata().getGeneration()))
                .withSecondaryToPrimaryMapper(org -> primaries.list().map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
                .build(), context);
        String reportNamespace = gatewayNamespace.orElseGet(() -> context.getClient().getNamespace());
        reports = new InformerEventSource<>(InformerEventSourceConfiguration.from(GatewayReport.class, ApiKey.class)
                .withName("apikey-gatewayreports").withNamespaces(Set.of(reportNamespace))
                .withItemStore(new WithoutManagedFields<>())
                .withSecondaryToPrimaryMapper(r -> r.getSpec() == null || r.getSpec().keys == null ? Set.of()
                        : r.getSpec().keys.stream().map(k -> new ResourceID(k.name, k.namespace))
                                .collect(Collectors.toSet()))
                .build(), context);
        return List.of(organizations, reports);
    }

    @Override
    public UpdateControl<ApiKey> reconcile(ApiKey key, Context<ApiKey> context) {
        ApiKeyStatus previous = key.getStatus() == null ? new ApiKeyStatus() : key.getStatus();
        ApiKeyStatus next = copy(previous);
        Long generation = key.getMetadata().getGeneration();
        next.observedGeneration = generation;
        String ns = key.getMetadata().getNamespace();
        // The pool's one rule of membership: the Organization that alone lists the namespace.
        Membership membership = Membership.of(organizations.list().toList());
        next.organization = membership.organizationOf(ns).orElse(null);

        if (previous.keyHash == null) {
            try {
                String value = ApiKeys.generate(RANDOM);
                Secret secret = context.getClient().resource(secret(key, value)).create();
                next.keyHash = ApiKeys.hash(value);
                next.keyPrefix = ApiKeys.visiblePrefix(value);
                next.secretName = secret.getMetadata().getName();
                LOG.infof("API key %s/%s issued into Secret %s", ns, key.getMetadata().getName(), next.secretName);
            } catch (KubernetesClientException e) {
                String message = "The operator could not create the key's Secret in namespace " + ns + " ("
                        + e.getCode() + " " + e.getMessage() + "); it retries.";
                next.conditions = Conditions.set(previous.conditions, Conditions.READY, false, SECRET_FAILED, message,
                        generation, clock);
                events.warningOnce(key, SECRET_FAILED, message);
                write(key, previous, next, context);
                throw e; // retried with back-off
            }
        }

        Instant expires = key.getSpec() == null ? null : PoolInputs.parseTime(key.getSpec().expiresAt);
        Instant now = clock.instant();
        Duration wakeUp = null;
        if (next.organization == null) {
            String message = membership.whyNoOrganization(ns).orElse("Namespace " + ns
                    + " belongs to no organization of the pool.") + " The gateway refuses this key meanwhile.";
            next.conditions = Conditions.set(next.conditions, Conditions.READY, false, NO_ORGANIZATION, message,
                    generation, clock);
            events.warningOnce(key, NO_ORGANIZATION, message);
        } else if (expires != null && !now.isBefore(expires)) {
            next.conditions = Conditions.set(next.conditions, Conditions.READY, false, EXPIRED,
                    "The key expired at " + expires + "; the gateway refuses it. Create a new ApiKey.", generation,
                    clock);
        } else {
            next.conditions = Conditions.set(next.conditions, Conditions.READY, true, ACTIVE,
                    "The gateway accepts this key for organization " + next.organization
                            + (expires == null ? "" : " until " + expires) + ". Its value is in Secret "
                            + next.secretName + " (key " + SECRET_KEY + ").",
                    generation, clock);
            if (expires != null) {
                wakeUp = Duration.between(now, expires).plusSeconds(1);
            }
        }

        UsageCounts.KeyCounts used = usage(key);
        if (used != null) {
            next.requests = used.requests();
            next.tokensUsed = used.tokens();
            next.lastUsedTime = used.lastUsed() == null ? null : used.lastUsed().toString();
        }
        write(key, previous, next, context);
        return wakeUp == null ? UpdateControl.noUpdate() : UpdateControl.<ApiKey> noUpdate().rescheduleAfter(wakeUp);
    }

    /** The key's counts summed over the gateway's report slots (null when it was never used). */
    private UsageCounts.KeyCounts usage(ApiKey key) {
        UsageCounts sum = UsageCounts.EMPTY;
        UsageCounts.KeyRef ref = new UsageCounts.KeyRef(key.getMetadata().getNamespace(), key.getMetadata().getName());
        for (GatewayReport r : reports.list().toList()) {
            UsageCounts counts = UsageCounts.of(r.getSpec());
            if (counts.keys().containsKey(ref)) {
                sum = sum.plus(new UsageCounts(Map.of(), Map.of(ref, counts.keys().get(ref))));
            }
        }
        return sum.keys().get(ref);
    }

    private Secret secret(ApiKey key, String value) {
        Map<String, String> data = new LinkedHashMap<>();
        data.put(SECRET_KEY, b64(value));
        gatewayUrl.ifPresent(url -> data.put(SECRET_BASE_URL, b64(url)));
        return new SecretBuilder().withNewMetadata().withGenerateName(key.getMetadata().getName() + "-")
                .withNamespace(key.getMetadata().getNamespace())
                .addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                .addToLabels(KEY_LABEL, key.getMetadata().getName())
                // Deleted with the key (no blockOwnerDeletion: that would need rights on the key's finalizers).
                .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(key.getApiVersion())
                        .withKind(key.getKind()).withName(key.getMetadata().getName())
                        .withUid(key.getMetadata().getUid()).withController(true).build())
                .endMetadata().withType("Opaque").withData(data).build();
    }

    /**
     * Replaces the status (a PUT of /status with the version this reconcile read, so that a reconcile working from
     * an older cache fails instead of issuing a second value) and caches the result for the next reconcile.
     */
    private static void write(ApiKey key, ApiKeyStatus previous, ApiKeyStatus next, Context<ApiKey> context) {
        if (same(previous, next)) {
            return;
        }
        PrimaryUpdateAndCacheUtils.updateAndCacheResource(key, context, current -> {
            current.setStatus(next);
            return current;
        }, updated -> context.getClient().resource(updated).updateStatus());
    }

    static boolean same(ApiKeyStatus a, ApiKeyStatus b) {
        return Objects.equals(a.organization, b.organization) && Objects.equals(a.keyHash, b.keyHash)
                && Objects.equals(a.keyPrefix, b.keyPrefix) && Objects.equals(a.secretName, b.secretName)
                && Objects.equals(a.requests, b.requests) && Objects.equals(a.tokensUsed, b.tokensUsed)
                && Objects.equals(a.lastUsedTime, b.lastUsedTime) && Objects.equals(a.conditions, b.conditions)
                && Objects.equals(a.observedGeneration, b.observedGeneration);
    }

    private static ApiKeyStatus copy(ApiKeyStatus s) {
        ApiKeyStatus c = new ApiKeyStatus();
        c.organization = s.organization;
        c.keyHash = s.keyHash;
        c.keyPrefix = s.keyPrefix;
        c.secretName = s.secretName;
        c.requests = s.requests;
        c.tokensUsed = s.tokensUsed;
        c.lastUsedTime = s.lastUsedTime;
        c.conditions = s.conditions == null ? new java.util.ArrayList<>() : new java.util.ArrayList<>(s.conditions);
        c.observedGeneration = s.observedGeneration;
        return c;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
