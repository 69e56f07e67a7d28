package io.gpupool.core.serving;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.autoscaling.ScaleDecision;
import io.gpupool.core.inventory.Membership;
import io.gpupool.core.inventory.Sharing;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.Withdrawal;
import io.gpupool.core.render.ServingAccess;
import io.gpupool.core.render.ServingSettings;

/**
 * What a reconcile of one ModelDeployment gathered before deciding: the facts {@link ServingDecision} turns, with the
 * scheduler's {@link Admission}, into everything to apply.
 *
 * @param organization            the organization of the ModelDeployment's namespace, or null when it has none
 * @param organizationExists      whether an Organization of that name exists
 * @param problems                what is wrong with the spec, one sentence each; empty when it is valid
 * @param settings                pool-wide rendering settings (images, drain grace period)
 * @param withdrawing             nodes their contributors are taking back, and since when
 * @param handover                how long replicas keep serving on a node being withdrawn
 * @param deployments             the ModelDeployment's serving Deployments in the pool's own cluster, as cached
 * @param works                   its ServingWork in contributed clusters, as cached (status reported by agents)
 * @param goneNodes               nodes the scheduler counts as gone: nothing they report is waited for
 * @param tokens                  reads the model's token; asked only when a contributed cluster needs it
 * @param grantCommand            the command that lets the operator read the namespace's token, for the message
 * @param credentialWriteFailures contributed clusters where writing the token failed in this reconcile
 * @param clock                   the operator's clock (conditions' transition times, handover deadlines)
 * @param noOrganization          why the namespace belongs to no organization ({@link Membership}), or null
 * @param sharing                 whether the pool lets it be shared ({@link Sharing})
 * @param access                  who may connect to its serving pods (their NetworkPolicy)
 * @param gatewayUrl              the pool gateway's base URL (the endpoint), or null when no gateway runs
 * @param servedNameHolder        the ModelDeployment (namespace/name) that holds this one's served name, or null when
 *                                this one holds it
 * @param reachable               ready replicas the gateway reaches (the most any live gateway replica reports), or
 *                                null when no gateway runs
 * @param scale                   the autoscaler's decision, or null when the ModelDeployment does not autoscale
 */
public record ServingInputs(String organization, boolean organizationExists, List<String> problems,
        ServingSettings settings, Map<NodeKey, Withdrawal> withdrawing, Duration handover, List<Deployment> deployments,
        List<ServingWork> works, Set<NodeKey> goneNodes, ModelToken.Reader tokens, String grantCommand,
        Set<String> credentialWriteFailures, Clock clock, String noOrganization, Sharing sharing,
        ServingAccess access, String gatewayUrl, String servedNameHolder, Integer reachable, ScaleDecision scale) {

    public ServingInputs {
        sharing = sharing == null ? Sharing.of(null, java.util.Optional.empty()) : sharing;
        access = access == null ? new ServingAccess(ServingAccess.DEFAULT_GATEWAY_NAMESPACE, false) : access;
    }

    /**
     * Inputs of a private ModelDeployment, its serving pods open to the gateway of the default namespace only, without
     * a gateway, holding its served name.
     */
    public ServingInputs(String organization, boolean organizationExists, List<String> problems,
            ServingSettings settings, Map<NodeKey, Withdrawal> withdrawing, Duration handover,
            List<Deployment> deployments, List<ServingWork> works, Set<NodeKey> goneNodes, ModelToken.Reader tokens,
            String grantCommand, Set<String> credentialWriteFailures, Clock clock) {
        this(organization, organizationExists, problems, settings, withdrawing, handover, deployments, works,
                goneNodes, tokens, grantCommand, credentialWriteFailures, clock, null, null, null, null, null, null,
                null);
    }

    /** The same inputs, with why it has no organization, whether it may be shared, and who may reach its pods. */
    public ServingInputs withTrust(String whyNoOrganization, Sharing sharingConsent, ServingAccess servingAccess) {
        return new ServingInputs(organization, organizationExists, problems, settings, withdrawing, handover,
                deployments, works, goneNodes, tokens, grantCommand, credentialWriteFailures, clock, whyNoOrganization,
                sharingConsent, servingAccess, gatewayUrl, servedNameHolder, reachable, scale);
    }

    /** The same inputs, with the pool gateway's URL, who holds the served name and the replicas the gateway reaches. */
    public ServingInputs withGateway(String url, String holder, Integer reachableReplicas) {
        return new ServingInputs(organization, organizationExists, problems, settings, withdrawing, handover,
                deployments, works, goneNodes, tokens, grantCommand, credentialWriteFailures, clock, noOrganization,
                sharing, access, url, holder, reachableReplicas, scale);
    }

    /** The same inputs, with the autoscaler's decision. */
    public ServingInputs withScale(ScaleDecision decision) {
        return new ServingInputs(organization, organizationExists, problems, settings, withdrawing, handover,
                deployments, works, goneNodes, tokens, grantCommand, credentialWriteFailures, clock, noOrganization,
                sharing, access, gatewayUrl, servedNameHolder, reachable, decision);
    }

    /** Whether the ModelDeployment belongs to an organization that exists: without one it is not admitted. */
    public boolean admissible() {
        return organization != null && organizationExists;
    }

    /** Whether its children are applied: not for an invalid spec (a bad edit never takes running replicas down). */
    public boolean appliesChildren() {
        return problems.isEmpty() && organization != null;
    }

    /** The same inputs, knowing that writing the token failed for these clusters. */
    public ServingInputs withCredentialWriteFailures(Set<String> failed) {
        return new ServingInputs(organization, organizationExists, problems, settings, withdrawing, handover,
                deployments, works, goneNodes, tokens, grantCommand, Set.copyOf(failed), clock, noOrganization, sharing,
                access, gatewayUrl, servedNameHolder, reachable, scale);
    }
}
