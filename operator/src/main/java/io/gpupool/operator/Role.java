package io.gpupool.operator;

/**
 * The gpupool application runs in one of three roles (config gpupool.role, env GPUPOOL_ROLE): {@value #OPERATOR} (the
 * default) at the pool, with the admission and serving controllers; {@value #AGENT} in a contributed cluster, with
 * only the contributor agent; or {@value #GATEWAY} at the pool, the OpenAI-compatible access layer in front of every
 * replica. Controllers of the other roles are not looked up, so JOSDK never registers them.
 */
public final class Role {

    public static final String PROPERTY = "gpupool.role";
    public static final String OPERATOR = "operator";
    public static final String AGENT = "agent";
    public static final String GATEWAY = "gateway";

    private Role() {
    }
}
