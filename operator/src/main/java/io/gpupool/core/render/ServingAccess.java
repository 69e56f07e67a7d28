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
import io.gpupool.api.v1alpha1.ModelDeployment;

/**
 * Who may open a connection to a ModelDeployment's serving pods in the pool's own cluster: the pool's gateway (which
 * authenticates callers with their organization's API keys, queues fairly and meters), and, where the pool admin
 * allows it, pods of the ModelDeployment's own namespace. Nothing else: without this a pod of any tenant could call
 * any organization's replicas directly, past keys, quotas and metering. Rendered as one NetworkPolicy per
 * ModelDeployment, next to its Service.
 *
 * <p>The gateway is recognized by the labels its pods carry ({@value #GATEWAY_COMPONENT_LABEL}={@value #GATEWAY_COMPONENT})
 * in the namespace the operator chart is installed in, selected by the {@value #NAMESPACE_NAME_LABEL} label that
 * Kubernetes puts on every namespace (1.21+; label the release namespace by hand on older clusters). Both must match:
 * a tenant can label its own pods as a gateway, but not move them into the pool's namespace.
 *
 * @param gatewayNamespace   the namespace the gateway runs in (the operator chart's release namespace)
 * @param allowSameNamespace whether pods of the ModelDeployment's own namespace may call its replicas directly
 */
public record ServingAccess(String gatewayNamespace, boolean allowSameNamespace) {

    public static final String GATEWAY_COMPONENT_LABEL = "app.kubernetes.io/component";
    public static final String GATEWAY_COMPONENT = "gateway";
    /** The label Kubernetes sets on every namespace to its name (immutable; 1.21+). */
    public static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
    public static final String DEFAULT_GATEWAY_NAMESPACE = "gpupool-system";

    public static ServingAccess from(GpuPoolSpec pool, String gatewayNamespace) {
        boolean sameNamespace = pool != null && pool.servingAccess != null
                && Boolean.TRUE.equals(pool.servingAccess.allowSameNamespace);
        return new ServingAccess(gatewayNamespace, sameNamespace);
    }

    /** The NetworkPolicy of a ModelDeployment's serving pods (same name and namespace as its Service). */
    public NetworkPolicy networkPolicy(ModelDeployment md) {
        String name = md.getMetadata().getName();
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
        Map<String, String> pods = new LinkedHashMap<>();
        pods.put(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY);
        pods.put(ApiGroup.MODEL_DEPLOYMENT_LABEL, name);
        return new NetworkPolicyBuilder()
                .withMetadata(new ObjectMetaBuilder().withName(name).withNamespace(md.getMetadata().getNamespace())
                        .withLabels(ServingRenderer.commonLabels(name)).build())
                .withNewSpec()
                .withPodSelector(new LabelSelectorBuilder().withMatchLabels(pods).build())
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
