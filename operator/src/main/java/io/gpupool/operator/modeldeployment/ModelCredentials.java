package io.gpupool.operator.modeldeployment;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.render.RemoteWorkRenderer;

/**
 * Shares a ModelDeployment's Hugging Face token with the contributed clusters that run its replicas: one key per
 * ServingWork in the hub namespace's {@value RemoteWorkRenderer#MODEL_CREDENTIALS_SECRET} Secret, the only Secret that
 * cluster's agent may read. The operator reads the token only where the ModelDeployment's namespace lets it (a
 * RoleBinding to the chart's model-token-reader ClusterRole): reading every Secret of the cluster is not something the
 * pool's operator should be able to do. The key goes when the cluster no longer runs replicas of the model.
 */
final class ModelCredentials {

    private static final Logger LOG = Logger.getLogger(ModelCredentials.class);

    /** Condition type on the ModelDeployment, present only while replicas on contributed clusters need the token. */
    static final String CONDITION = "CredentialsShared";
    /**
     * Label by which a namespace marks a Secret as a model token the pool may copy to contributed clusters: the
     * operator copies no other Secret, whatever a ModelDeployment names (a namespace reader could otherwise have any
     * Secret of the namespace sent to a cluster of their choosing).
     */
    static final String MODEL_TOKEN_LABEL = "gpupool.io/model-token";

    /** How soon to try again when the token could not be shared (a Secret or a RoleBinding may appear any time). */
    static final java.time.Duration RETRY = java.time.Duration.ofSeconds(15);

    private ModelCredentials() {
    }

    /** Whether the token reached every cluster that needs it, and why not. */
    record Outcome(boolean shared, String reason, String message) {
    }

    /**
     * @param clustersWithReplicas contributed clusters that run (or are about to run) replicas: they get the token
     * @param clustersWithWork     contributed clusters that have a ServingWork of it: those not in the first list lose
     *                             the token
     * @param grantCommand         how the namespace lets the operator read the token, for the message that asks for it
     * @return null when no contributed cluster needs a token for this ModelDeployment
     */
    static Outcome share(KubernetesClient client, ModelDeployment md, Collection<String> clustersWithReplicas,
            Collection<String> clustersWithWork, String grantCommand) {
        String key = RemoteWorkRenderer.workName(md.getMetadata().getNamespace(), md.getMetadata().getName());
        for (String cluster : clustersWithWork) {
            if (!clustersWithReplicas.contains(cluster)) {
                forget(client, cluster, key);
            }
        }
        var ref = md.getSpec().hfTokenSecretRef;
        if (ref == null || clustersWithReplicas.isEmpty()) {
            return null;
        }
        var allowed = md.getSpec().hfTokenClusters == null ? List.<String>of() : md.getSpec().hfTokenClusters;
        List<String> notAllowed = clustersWithReplicas.stream().filter(c -> !allowed.contains(c)).toList();
        if (!notAllowed.isEmpty()) {
            // Placement keeps such replicas off these clusters; replicas placed before the list changed get no token.
            return new Outcome(false, "ClusterNotAllowed", "Replicas run on contributed clusters " + notAllowed
                    + ", which spec.hfTokenClusters does not list: the token is not sent there.");
        }
        String tokenKey = ref.key == null ? "token" : ref.key;
        String token;
        try {
            Secret source = client.secrets().inNamespace(md.getMetadata().getNamespace()).withName(ref.name).get();
            token = source == null || source.getData() == null ? null : source.getData().get(tokenKey);
            if (source != null && !"true".equals(source.getMetadata().getLabels() == null ? null
                    : source.getMetadata().getLabels().get(MODEL_TOKEN_LABEL))) {
                return new Outcome(false, "SecretNotMarked", "Secret " + ref.name + " is not marked as a model token, "
                        + "so it is not copied to contributed clusters " + clustersWithReplicas + ". Mark it: kubectl "
                        + "label secret " + ref.name + " -n " + md.getMetadata().getNamespace() + " " + MODEL_TOKEN_LABEL
                        + "=true");
            }
            if (token == null) {
                return new Outcome(false, "TokenNotFound", "Secret " + ref.name + " (key " + tokenKey + ") does not "
                        + "exist in namespace " + md.getMetadata().getNamespace() + ", so replicas on contributed "
                        + "clusters " + clustersWithReplicas + " cannot download the model.");
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != 403) {
                throw e;
            }
            return new Outcome(false, "TokenNotReadable", "Replicas run on contributed clusters " + clustersWithReplicas
                    + " and need the Hugging Face token, but this namespace does not let the pool's operator read "
                    + "Secret " + ref.name + ". To share it: " + grantCommand + ".");
        }
        List<String> failed = new ArrayList<>();
        for (String cluster : clustersWithReplicas) {
            try {
                remember(client, cluster, key, token);
            } catch (KubernetesClientException e) {
                LOG.warnf("Could not share the token of %s with cluster %s: %s", key, cluster, e.getMessage());
                failed.add(cluster);
            }
        }
        return failed.isEmpty()
                ? new Outcome(true, "Shared", "The Hugging Face token is shared with contributed clusters "
                        + clustersWithReplicas + ".")
                : new Outcome(false, "ShareFailed", "The token could not be written for clusters " + failed
                        + "; retrying.");
    }

    /** Removes the ModelDeployment's token from every contributed cluster (it is being deleted). */
    static void forgetEverywhere(KubernetesClient client, ModelDeployment md, Collection<String> clusters) {
        String key = RemoteWorkRenderer.workName(md.getMetadata().getNamespace(), md.getMetadata().getName());
        clusters.forEach(cluster -> forget(client, cluster, key));
    }

    private static void remember(KubernetesClient client, String cluster, String key, String token) {
        String ns = NodeTrust.hubNamespace(cluster);
        var resource = client.secrets().inNamespace(ns).withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET);
        Secret current = resource.get();
        if (current == null) {
            client.resource(new SecretBuilder().withNewMetadata().withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET)
                    .withNamespace(ns).addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                    .addToLabels(ApiGroup.CLUSTER_LABEL, cluster).endMetadata()
                    .withType("Opaque").addToData(key, token).build()).create();
            return;
        }
        if (!Objects.equals(token, current.getData() == null ? null : current.getData().get(key))) {
            Map<String, String> data = current.getData() == null ? new LinkedHashMap<>()
                    : new LinkedHashMap<>(current.getData());
            data.put(key, token);
            current.setData(data);
            client.resource(current).update(); // optimistic: a conflict fails this reconcile, which is retried
        }
    }

    private static void forget(KubernetesClient client, String cluster, String key) {
        var resource = client.secrets().inNamespace(NodeTrust.hubNamespace(cluster))
                .withName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET);
        try {
            Secret current = resource.get();
            if (current != null && current.getData() != null && current.getData().containsKey(key)) {
                Map<String, String> data = new LinkedHashMap<>(current.getData());
                data.remove(key);
                current.setData(data);
                client.resource(current).update();
            }
        } catch (KubernetesClientException e) {
            LOG.debugf("Could not remove the token of %s from cluster %s: %s", key, cluster, e.getMessage());
        }
    }
}
