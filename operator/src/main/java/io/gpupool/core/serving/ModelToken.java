package io.gpupool.core.serving;

/**
 * A ModelDeployment's Hugging Face token as the operator could read it from the Secret its spec names.
 *
 * @param state whether it was found
 * @param value the token (base64, as in the Secret's data) when found, else null
 */
public record ModelToken(State state, String value) {

    public enum State {
        FOUND,
        /** The Secret or its key does not exist. */
        MISSING,
        /** The namespace does not let the operator read it (no RoleBinding to the token-reader ClusterRole). */
        UNREADABLE,
        /** The Secret is not marked as a model token ({@link #LABEL}): the pool copies no other Secret. */
        NOT_MARKED
    }

    /**
     * Label by which a namespace marks a Secret as a model token the pool may copy to contributed clusters: the
     * operator copies no other Secret, whatever a ModelDeployment names (a namespace reader could otherwise have any
     * Secret of the namespace sent to a cluster of their choosing).
     */
    public static final String LABEL = "gpupool.io/model-token";

    public static ModelToken found(String value) {
        return new ModelToken(State.FOUND, value);
    }

    public static final ModelToken MISSING = new ModelToken(State.MISSING, null);
    public static final ModelToken UNREADABLE = new ModelToken(State.UNREADABLE, null);
    public static final ModelToken NOT_MARKED = new ModelToken(State.NOT_MARKED, null);

    /** Reads a token, only when a contributed cluster needs it (it is a request to the API server). */
    @FunctionalInterface
    public interface Reader {
        ModelToken read(String secretName, String key);
    }
}
