package io.gpupool.core.render;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuPoolSpec;

/**
 * Who may open a connection to a ModelDeployment's serving pods in the pool's own cluster: the pool's gateway (which
 * authenticates callers with their organization's API keys, queues fairly and meters), and, where the pool admin
 * allows it, pods of the ModelDeployment's own namespace. Nothing else: without this a pod of any tenant could call
 * any organization's replicas directly, past keys, quotas and metering. Rendered as one NetworkPolicy per namespace
 * ({@value #POLICY_NAME}) that selects every serving pod the operator runs there: what it says depends on the pool
 * (its gateway namespace, {@code servingAccess.allowSameNamespace}) and the namespace, never on one ModelDeployment,
 * so one object serves all of the namespace's ModelDeployments instead of one more write for each.
 *
 * <p>The gateway is recognized by the labels its pods carry ({@value #GATEWAY_COMPONENT_LABEL}={@value #GATEWAY_COMPONENT})
 * in the namespace the operator chart is installed in, selected by the {@value #NAMESPACE_NAME_LABEL} label that
 * Kubernetes puts on every namespace (1.21+; label the release namespace by hand on older clusters). Both must match:
 * a tenant can label its own pods as a gateway, but not move them into the pool's namespace.
 *
 * @param gatewayNamespace   the namespace the gateway runs in (the operator chart's release namespace)
 * @param allowSameNamespace whether pods of the serving pods' own namespace may call their replicas directly
 */
public record ServingAccess(String gatewayNamespace, boolean allowSameNamespace) {

    public static final String GATEWAY_COMPONENT_LABEL = "app.kubernetes.io/component";
    public static final String GATEWAY_COMPONENT = "gateway";
    /** The label Kubernetes sets on every namespace to its name (immutable; 1.21+). */
    public static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
    public static final String DEFAULT_GATEWAY_NAMESPACE = "gpupool-system";
    /** The name of the namespace's NetworkPolicy of serving pods. */
    public static final String POLICY_NAME = "gpupool-serving";
    /** Its {@code app.kubernetes.io/component} label (the operator's informer of these policies selects it). */
    public static final String COMPONENT = "serving-access";

    public static ServingAccess from(GpuPoolSpec pool, String gatewayNamespace) {
        boolean sameNamespace = pool != null && pool.servingAccess != null
                && Boolean.TRUE.equals(pool.servingAccess.allowSameNamespace);
        return new ServingAccess(gatewayNamespace, sameNamespace);
    }

    /**
     * The NetworkPolicy of the serving pods of a namespace: it selects every pod the operator's serving Deployments
     * run there ({@link ServingRenderer#servingPodLabels}), whichever ModelDeployment they serve.
     */
    public NetworkPolicy networkPolicy(String namespace) {
        List<NetworkPolicyIngressRule> ingress = new ArrayList<>();
        ingress.add(rule(new NetworkPolicyPeerBuilder()
                .withNamespaceSelector(new LabelSelectorBuilder().addToMatchLabels(NAMESPACE_NAME_LABEL, gatewayNamespace)
                        .build())
                .withPodSelector(new LabelSelectorBuilder().addToMatchLabels(GATEWAY_COMPONENT_LABEL, GATEWAY_COMPONENT)
                        .build())
                .build()));
        if (allowSameNamespace) {
            ingress.add(rule(new NetworkPolicyPeerBuilder().withPodSelector(new LabelSelectorBuilder().build()).build()));
        }
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app.kubernetes.io/name", "gpupool-serving");
        labels.put(GATEWAY_COMPONENT_LABEL, COMPONENT);
        labels.put(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY);
        return new NetworkPolicyBuilder()
                .withMetadata(new ObjectMetaBuilder().withName(POLICY_NAME).withNamespace(namespace).withLabels(labels)
                        .build())
                .withNewSpec()
                .withPodSelector(new LabelSelectorBuilder().withMatchLabels(ServingRenderer.servingPodLabels()).build())
                .withPolicyTypes("Ingress")
                .withIngress(ingress)
                .endSpec()
                .build();
    }

    private static NetworkPolicyIngressRule rule(NetworkPolicyPeer from) {
        return new NetworkPolicyIngressRuleBuilder().withFrom(from).addNewPort().withProtocol("TCP")
                .withPort(new IntOrString(ServingContract.PORT)).endPort().build();
    }
}
