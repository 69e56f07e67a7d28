package io.gpupool.core.inventory;

import java.util.Optional;

import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.api.v1alpha1.Organization;

/**
 * Whether a ModelDeployment is shared. spec.shared is the tenant's wish; it changes what the pool gives (the commons
 * reserve first, out of reach of its own organization's priority preemption, callable by everyone), so it takes the
 * pool's consent: its Organization's spec.allowSharedDeployments, which only pool admins write.
 *
 * @param shared  whether admission treats it as shared
 * @param reason  the Shared condition's reason, or null when it did not ask to be shared
 * @param message the Shared condition's message, or null
 */
public record Sharing(boolean shared, String reason, String message) {

    public static final String CONDITION = "Shared";
    public static final String ALLOWED = "SharingAllowed";
    public static final String NOT_ALLOWED = "SharingNotAllowed";
    private static final Sharing PRIVATE = new Sharing(false, null, null);

    public static Sharing of(ModelDeploymentSpec spec, Optional<Organization> organization) {
        if (spec == null || !Boolean.TRUE.equals(spec.shared)) {
            return PRIVATE;
        }
        String org = organization.map(o -> o.getMetadata().getName()).orElse("?");
        boolean allowed = organization.map(o -> o.getSpec() != null
                && Boolean.TRUE.equals(o.getSpec().allowSharedDeployments)).orElse(false);
        if (allowed) {
            return new Sharing(true, ALLOWED, "Shared with every organization of the pool; organization " + org
                    + " may share deployments.");
        }
        return new Sharing(false, NOT_ALLOWED, "spec.shared asks for a community deployment, but organization " + org
                + " may not share deployments, so it runs as a private one (its own quota, its organization's "
                + "priorities). A pool admin grants it: kubectl patch organization " + org
                + " --type merge -p '{\"spec\":{\"allowSharedDeployments\":true}}'.");
    }
}
