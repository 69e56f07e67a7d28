package io.gpupool.core.serving;

import java.time.Instant;
import java.util.List;

import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.render.ServingSettings;

/**
 * Everything one reconcile of a ModelDeployment applies, decided by {@link ServingDecision}: its children, the token
 * shared with contributed clusters, the Events and the status.
 *
 * @param status    the next status (the reconciler writes it when it differs from the current one)
 * @param children  what to apply; null when the children are left as they are (invalid spec)
 * @param warnings  Warning Events to record, in order
 * @param lookAgain when to reconcile again although nothing changes (a handover deadline, a token retry), or null
 */
public record ServingPlan(ModelDeploymentStatus status, Children children, List<Warning> warnings, Instant lookAgain) {

    /**
     * @param localPlacements replicas in the pool's own cluster: one Deployment per node (the dependents render them)
     * @param settings        rendering settings of the Deployments
     * @param credentials     the token's keys to write and remove in contributed clusters' hub namespaces
     * @param works           the ServingWork that should exist, one per contributed cluster, rendered
     * @param obsoleteWorks   ServingWork to delete (their clusters run nothing of it any more)
     */
    public record Children(List<Placement> localPlacements, ServingSettings settings, Credentials credentials,
            List<ServingWork> works, List<ServingWork> obsoleteWorks) {

        /**
         * Whether applying these writes objects outside the ModelDeployment's namespace (a ServingWork, a copy of the
         * token in a contributed cluster's hub namespace): owner references cannot reach them there, so the
         * ModelDeployment must not go before the operator has removed them (its finalizer). Removals alone write
         * nothing that would outlive it.
         */
        public boolean writeOutsideTheNamespace() {
            return !works.isEmpty() || (credentials != null && credentials.token() != null
                    && !credentials.shareWith().isEmpty());
        }
    }

    /**
     * The token's copies: one key per ServingWork in each hub namespace's credentials Secret.
     *
     * @param key       the key (the ServingWork's name)
     * @param token     the token to write, or null when there is nothing to write
     * @param shareWith clusters that get the key
     * @param forgetAt  clusters that lose it (they have work of it but run no replica)
     */
    public record Credentials(String key, String token, List<String> shareWith, List<String> forgetAt) {
    }

    /**
     * A Warning Event.
     *
     * @param once true: not recorded again while it is the last warning recorded for the object
     */
    public record Warning(String reason, String message, boolean once) {
    }
}
