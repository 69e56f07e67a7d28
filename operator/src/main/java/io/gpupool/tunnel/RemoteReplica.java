package io.gpupool.tunnel;

/**
 * A serving replica in a contributed cluster, reachable through that cluster's tunnel.
 *
 * @param cluster the contributed cluster (its ContributedCluster's name)
 * @param work    the ServingWork it serves, in the cluster's hub namespace (named namespace.name of its
 *                ModelDeployment, see {@link io.gpupool.core.render.RemoteWorkRenderer#workName})
 * @param pod     the serving pod in the contributor's cluster, as its agent reports it
 */
public record RemoteReplica(String cluster, String work, String pod) {

    /** For logs and metrics: {@code home-lab/qwen-coder-1a2b-7f9c-xk2p1}. */
    public String describe() {
        return cluster + "/" + pod;
    }
}
