package io.gpupool.core.gateway;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.inventory.Membership;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.inventory.Sharing;

/**
 * The names clients call models by, and who may call them: the one place that decides what a served model name means
 * in the pool. The operator asks it which ModelDeployment holds a name (for the ServedModelName condition), the
 * gateway to route and to check access; they cannot disagree.
 * <ul>
 * <li>A ModelDeployment's served name is spec.servedModelName, else the deprecated spec.model.servedModelName, else
 * {@code <namespace>/<name>} (unique by construction).</li>
 * <li>A name claimed by several ModelDeployments belongs to the oldest (creation time, then namespace/name): a newcomer
 * can never take a name that clients already use. One being deleted claims nothing.</li>
 * <li>An organization may call its own models (those of namespaces it owns) and every shared one.</li>
 * </ul>
 */
public final class ModelCatalog {

    /** ModelDeployment condition: True (NameHeld) when it holds its served name, False (NameTaken) naming the holder. */
    public static final String CONDITION = "ServedModelName";
    public static final String HELD = "NameHeld";
    public static final String TAKEN = "NameTaken";
    public static final int DEFAULT_MAX_IN_FLIGHT_VLLM = 64;
    public static final int DEFAULT_MAX_IN_FLIGHT_LLAMACPP = 4;

    /**
     * A model the pool serves under a name.
     *
     * @param organization the owner (of its namespace), or null when its namespace belongs to no organization
     * @param autoscaled   it has spec.autoscaling: with no ready replica, the gateway holds its requests (a replica is
     *                     on its way: scale from zero) instead of answering 503 at once
     */
    public record Model(String namespace, String name, String servedName, String organization, boolean shared,
            int maxInFlightPerReplica, Instant created, boolean autoscaled) {

        public Model(String namespace, String name, String servedName, String organization, boolean shared,
                int maxInFlightPerReplica, Instant created) {
            this(namespace, name, servedName, organization, shared, maxInFlightPerReplica, created, false);
        }

        /** {@code <namespace>/<name>}: how reports and usage name the ModelDeployment. */
        public String id() {
            return id(namespace, name);
        }

        public static String id(String namespace, String name) {
            return namespace + "/" + name;
        }
    }

    /** What a name means to a caller. */
    public sealed interface Lookup {
    }

    public record Found(Model model) implements Lookup {
    }

    public record NotFound() implements Lookup {
    }

    public record Forbidden(Model model) implements Lookup {
    }

    private final Map<String, Model> byName;
    private final Map<String, Model> byId;

    private ModelCatalog(Map<String, Model> byName, Map<String, Model> byId) {
        this.byName = byName;
        this.byId = byId;
    }

    public static String servedName(ModelDeployment md) {
        ModelDeploymentSpec spec = md.getSpec();
        if (spec != null && spec.servedModelName != null && !spec.servedModelName.isBlank()) {
            return spec.servedModelName;
        }
        if (spec != null && spec.model != null && spec.model.servedModelName != null
                && !spec.model.servedModelName.isBlank()) {
            return spec.model.servedModelName;
        }
        return Model.id(md.getMetadata().getNamespace(), md.getMetadata().getName());
    }

    public static int maxInFlightPerReplica(ModelDeploymentSpec spec) {
        if (spec == null) {
            return DEFAULT_MAX_IN_FLIGHT_VLLM;
        }
        if (spec.maxInFlightPerReplica != null && spec.maxInFlightPerReplica > 0) {
            return spec.maxInFlightPerReplica;
        }
        return "llamacpp".equals(spec.engine) ? DEFAULT_MAX_IN_FLIGHT_LLAMACPP : DEFAULT_MAX_IN_FLIGHT_VLLM;
    }

    /** Which of the ModelDeployments claiming one name holds it: the oldest, then by namespace/name. */
    public static final Comparator<ModelDeployment> PRECEDENCE = Comparator
            .comparing((ModelDeployment md) -> created(md), Comparator.nullsLast(Comparator.naturalOrder()))
            .thenComparing(md -> md.getMetadata().getNamespace())
            .thenComparing(md -> md.getMetadata().getName());

    /**
     * The holder among ModelDeployments that claim the same name. One being deleted claims nothing: its name is free
     * for the next at once (its replicas may still drain, but clients calling the name reach the new holder).
     */
    public static Optional<ModelDeployment> holder(Collection<ModelDeployment> claimants) {
        return claimants.stream().filter(md -> md.getMetadata().getDeletionTimestamp() == null).min(PRECEDENCE);
    }

    /**
     * @param organizations the pool's Organizations: which one a namespace belongs to ({@link Membership}, the pool's
     *                      one rule) and whether it may share its models ({@link Sharing}: spec.shared alone is the
     *                      tenant's wish, not the pool's consent)
     */
    public static ModelCatalog of(Collection<ModelDeployment> deployments, Collection<Organization> organizations) {
        Membership membership = Membership.of(organizations);
        Map<String, Organization> byOrgName = new HashMap<>();
        organizations.forEach(o -> byOrgName.put(o.getMetadata().getName(), o));
        Map<String, List<ModelDeployment>> claims = new HashMap<>();
        for (ModelDeployment md : deployments) {
            if (md.getMetadata() != null && md.getSpec() != null) {
                claims.computeIfAbsent(servedName(md), k -> new ArrayList<>()).add(md);
            }
        }
        Map<String, Model> byName = new HashMap<>();
        Map<String, Model> byId = new HashMap<>();
        claims.forEach((name, mds) -> holder(mds).ifPresent(md -> {
            String ns = md.getMetadata().getNamespace();
            Optional<String> org = membership.organizationOf(ns);
            boolean shared = Sharing.of(md.getSpec(), org.map(byOrgName::get)).shared();
            Model m = new Model(ns, md.getMetadata().getName(), name, org.orElse(null), shared,
                    maxInFlightPerReplica(md.getSpec()), created(md), md.getSpec().autoscaling != null);
            byName.put(name, m);
            byId.put(m.id(), m);
        }));
        return new ModelCatalog(Map.copyOf(byName), Map.copyOf(byId));
    }

    public Optional<Model> byServedName(String servedName) {
        return Optional.ofNullable(byName.get(servedName));
    }

    /** The model a ModelDeployment serves, when it holds its name. */
    public Optional<Model> byId(String namespace, String name) {
        return Optional.ofNullable(byId.get(Model.id(namespace, name)));
    }

    public Lookup lookup(String servedName, String callerOrganization) {
        Model m = byName.get(servedName);
        if (m == null) {
            return new NotFound();
        }
        return mayUse(m, callerOrganization) ? new Found(m) : new Forbidden(m);
    }

    /** The models an organization may call, by served name. */
    public List<Model> visibleTo(String organization) {
        return byName.values().stream().filter(m -> mayUse(m, organization))
                .sorted(Comparator.comparing(Model::servedName)).toList();
    }

    public Collection<Model> all() {
        return byName.values();
    }

    static boolean mayUse(Model m, String organization) {
        return m.shared() || (organization != null && organization.equals(m.organization()));
    }

    private static Instant created(ModelDeployment md) {
        return PoolInputs.parseTime(md.getMetadata().getCreationTimestamp());
    }
}
