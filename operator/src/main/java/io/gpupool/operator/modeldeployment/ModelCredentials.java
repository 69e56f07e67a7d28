package io.gpupool.operator.modeldeployment;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.serving.ModelToken;
import io.gpupool.core.serving.ServingPlan;

/**
 * Shares a ModelDeployment's Hugging Face token with the contributed clusters that run its replicas: one key per
 * ServingWork in the hub namespace's {@value RemoteWorkRenderer#MODEL_CREDENTIALS_SECRET} Secret, the only Secret that
 * cluster's agent may read. The operator reads the token only where the ModelDeployment's namespace lets it (a
 * RoleBinding to the chart's model-token-reader ClusterRole): reading every Secret of the cluster is not something the
 * pool's operator should be able to do. The key goes when the cluster no longer runs replicas of the model.
 */
final class ModelCredentials {

    private static final Logger LOG = Logger.getLogger(ModelCredentials.class);

    /**
     * Reads the token a ModelDeployment's spec names, in its own namespace: missing when the Secret or key does not
     * exist, unreadable when the namespace has not let the operator read it (403), not marked when the Secret does not
     * carry the {@value ModelToken#LABEL} label.
     */
    static ModelToken read(KubernetesClient client, ModelDeployment md, String secretName, String key) {
        try {
            Secret source = client.secrets().inNamespace(md.getMetadata().getNamespace()).withName(secretName).get();
            String token = source == null || source.getData() == null ? null : source.getData().get(key);
            if (token != null && !"true".equals(source.getMetadata().getLabels() == null ? null
                    : source.getMetadata().getLabels().get(ModelToken.LABEL))) {
                return ModelToken.NOT_MARKED; // read, but not the namespace's to give away: dropped here
            }
            return token == null ? ModelToken.MISSING : ModelToken.found(token);
        } catch (KubernetesClientException e) {
            if (e.getCode() != 403) {
                throw e;
            }
            return ModelToken.UNREADABLE;
        }
    }

    /**
     * Writes the token's key where the plan shares it and removes it where the plan forgets it.
     *
     * @return clusters where writing failed (the decision says so in the status, and the reconcile is retried)
     */
    static Set<String> apply(KubernetesClient client, ServingPlan.Credentials plan) {
        plan.forgetAt().forEach(cluster -> forget(client, cluster, plan.key()));
        Set<String> failed = new LinkedHashSet<>();
        if (plan.token() == null) {
            return failed;
        }
        for (String cluster : plan.shareWith()) {
            try {
                remember(client, cluster, plan.key(), plan.token());
            } catch (KubernetesClientException e) {
                LOG.warnf("Could not share the token of %s with cluster %s: %s", plan.key(), cluster, e.getMessage());
                failed.add(cluster);
            }
        }
        return failed;
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
