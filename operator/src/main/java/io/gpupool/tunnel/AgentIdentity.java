package io.gpupool.tunnel;

/**
 * Who opened a tunnel, as the pool's API server vouched for it.
 *
 * @param cluster the contributed cluster whose agent it is
 * @param user    the authenticated user (a ServiceAccount: system:serviceaccount:namespace:name)
 */
public record AgentIdentity(String cluster, String user) {
}
