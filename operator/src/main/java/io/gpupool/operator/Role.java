package io.gpupool.operator;

/**
 * The gpupool application runs in one of two roles (config gpupool.role, env GPUPOOL_ROLE): {@value #OPERATOR} (the
 * default) at the pool, with the admission and serving controllers; or {@value #AGENT} in a contributed cluster, with
 * only the contributor agent. Controllers of the other role are not looked up, so JOSDK never registers them.
 */
public final class Role {

    public static final String PROPERTY = "gpupool.role";
    public static final String OPERATOR = "operator";
    public static final String AGENT = "agent";

    private Role() {
    }
}
