package io.gpupool.tunnel;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.core.inventory.NodeTrust;

/**
 * A tunnel is opened with the agent's own hub credentials, checked by the pool's API server the way kube-rbac-proxy and
 * konnectivity's server check theirs (the gateway is bound to the built-in ClusterRole {@code system:auth-delegator}):
 * <ol>
 * <li>a TokenReview says whose token it is: a forged, expired or revoked token stops here ({@code 401});</li>
 * <li>it must be a ServiceAccount: no person's credential opens a tunnel ({@code 403});</li>
 * <li>a SubjectAccessReview asks whether that ServiceAccount may report the status of ServingWork in the claimed
 * cluster's hub namespace, the permission that makes it that cluster's agent (the operator's Role for the cluster's
 * agent grants it, and nothing else in the pool does). Another cluster's agent, or an approval that was revoked,
 * stops here ({@code 403}).</li>
 * </ol>
 * Asking the API server rather than matching the ServiceAccount's name keeps one rule for both ways an agent reaches
 * the pool: with the kubeconfig of {@code gpupool-cluster-<cluster>/gpupool-agent}, or, when the pool is its own
 * cluster, with the contributor chart's ServiceAccount bound to that same Role.
 */
public final class KubernetesTunnelAuthenticator implements TunnelAuthenticator {

    static final String SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

    private final KubernetesClient client;

    public KubernetesTunnelAuthenticator(KubernetesClient client) {
        this.client = client;
    }

    @Override
    public AgentIdentity authenticate(String token, String cluster) {
        if (cluster == null || !cluster.matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
                || NodeTrust.hubNamespace(cluster).length() > 63) {
            throw new TunnelRefusedException(400, "'" + cluster + "' is not a contributed cluster's name");
        }
        TokenReview review = client.resource(new TokenReviewBuilder().withNewSpec().withToken(token).endSpec().build())
                .create();
        var status = review.getStatus();
        if (status == null || !Boolean.TRUE.equals(status.getAuthenticated()) || status.getUser() == null) {
            String why = status == null || status.getError() == null ? "" : " (" + status.getError() + ")";
            throw new TunnelRefusedException(401, "The pool's API server does not accept this token" + why
                    + ": use the credentials the pool issued for cluster " + cluster + ".");
        }
        UserInfo user = status.getUser();
        if (user.getUsername() == null || !user.getUsername().startsWith(SERVICE_ACCOUNT_PREFIX)) {
            throw new TunnelRefusedException(403, user.getUsername() + " is not a ServiceAccount: only a contributed "
                    + "cluster's agent may open a tunnel.");
        }
        String hubNamespace = NodeTrust.hubNamespace(cluster);
        SubjectAccessReview access = client.resource(new SubjectAccessReviewBuilder().withNewSpec()
                .withUser(user.getUsername()).withGroups(user.getGroups()).withUid(user.getUid())
                .withExtra(user.getExtra())
                .withNewResourceAttributes().withNamespace(hubNamespace).withGroup(ApiGroup.GROUP)
                .withResource("servingworks").withSubresource("status").withVerb("update").endResourceAttributes()
                .endSpec().build()).create();
        if (access.getStatus() == null || !Boolean.TRUE.equals(access.getStatus().getAllowed())) {
            throw new TunnelRefusedException(403, user.getUsername() + " is not the agent of cluster " + cluster
                    + ": it may not report the status of ServingWork in " + hubNamespace
                    + " (is the ContributedCluster approved, and is this its agent's kubeconfig?).");
        }
        return new AgentIdentity(cluster, user.getUsername());
    }
}
