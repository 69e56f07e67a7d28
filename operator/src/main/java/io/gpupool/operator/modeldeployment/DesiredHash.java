package io.gpupool.operator.modeldeployment;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * How the operator tells that a serving child (Deployment, Service) is already what it would write, the way Strimzi
 * does it: the child carries the SHA-256 of what the renderer made for it in an annotation, and it matches when that
 * annotation equals the hash of what the renderer makes now. Comparing two strings replaces the server-side-apply
 * matcher, which turned both objects into maps and walked the operator's managed-fields tree at every reconcile (and
 * needed those trees cached); the caches of these children keep only what the operator reads
 * ({@link io.gpupool.operator.cache.SlimDeployments}, {@link io.gpupool.operator.cache.SlimServices}).
 *
 * <p>What is given up: an edit made by hand to a child that leaves the annotation alone is not undone until the
 * ModelDeployment changes (Strimzi's trade too), except its replica count, which is compared as well because the
 * pool's GPU accounting depends on it. Removing the annotation (or changing any rendered field of the
 * ModelDeployment) makes the operator write the child again.
 */
final class DesiredHash {

    static final String ANNOTATION = "gpupool.io/desired-hash";

    private DesiredHash() {
    }

    /** Annotates a rendered child with the hash of its rendering (taken before the annotation is added). */
    static <R extends HasMetadata> R stamp(R rendered) {
        String hash = of(rendered);
        if (rendered.getMetadata().getAnnotations() == null) {
            rendered.getMetadata().setAnnotations(new java.util.LinkedHashMap<>());
        }
        rendered.getMetadata().getAnnotations().put(ANNOTATION, hash);
        return rendered;
    }

    /** Whether the child in the cluster carries the hash of {@code desired}, which {@link #stamp} annotated. */
    static boolean matches(HasMetadata actual, HasMetadata desired) {
        var annotations = actual.getMetadata().getAnnotations();
        return annotations != null
                && Objects.equals(annotations.get(ANNOTATION), desired.getMetadata().getAnnotations().get(ANNOTATION));
    }

    /**
     * Hex SHA-256 of the object's {@code toString()}: the Fabric8 model prints every field, nested objects and maps
     * included (the renderer builds them in a fixed order, so equal renderings hash equally). Its JSON would do as
     * well, at several times the price: serializing each rendering was 5 % of the operator's CPU in a burst.
     */
    static String of(HasMetadata rendered) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(rendered.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
