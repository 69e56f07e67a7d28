package io.gpupool.testing;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;

/**
 * Which connections NetworkPolicies admit to a pod, decided the way the NetworkPolicy API defines it, from the
 * policies, pods and namespaces as the API server holds them. This machine has no CNI plugin, so nothing enforces
 * NetworkPolicies and no packet can be sent to find out: what can be checked is that the policies' selectors, read with
 * Kubernetes' semantics, admit exactly the intended pods. That is what a conforming plugin enforces; whether a plugin
 * conforms is its own tests' business. Fabric8 has no evaluator of label selectors or policies, hence this one.
 *
 * <p>The rules applied (https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the
 * {@code networking.k8s.io/v1} API reference):
 * <ul>
 * <li>A pod is isolated for ingress when a NetworkPolicy of its namespace selects it ({@code spec.podSelector}; empty
 * selects every pod) and its {@code policyTypes} contain Ingress (absent {@code policyTypes}: Ingress, plus Egress when
 * there are egress rules). A pod no policy isolates accepts every connection.</li>
 * <li>An isolated pod accepts a connection when any ingress rule of any policy that selects it admits it (policies add
 * up; none takes away). A rule admits a connection when one of its peers matches the source ({@code from} absent or
 * empty: every source) and one of its ports matches ({@code ports} absent or empty: every port).</li>
 * <li>A peer with only {@code podSelector} matches pods of the policy's own namespace; with only
 * {@code namespaceSelector}, every pod of the namespaces it selects; with both, the pods matching {@code podSelector}
 * in the namespaces matching {@code namespaceSelector}.</li>
 * <li>A port matches the protocol (default TCP) and the number, a named port of the destination pod's containers, or
 * the range up to {@code endPort}; no {@code port}: every port of the protocol.</li>
 * <li>Label selectors: {@code matchLabels} and {@code matchExpressions} must all hold; an empty selector matches
 * everything; {@code In} needs the key with one of the values, {@code NotIn} its absence or another value,
 * {@code Exists} / {@code DoesNotExist} the key's presence / absence.</li>
 * <li>Namespaces carry {@value #NAMESPACE_NAME_LABEL} = their name, as every API server from 1.21 on sets it (and
 * refuses any other value). The 1.20 API server of the test tier does not, so the evaluator adds it as a newer server
 * would: the shipped policies select namespaces by that label.</li>
 * </ul>
 * Ingress only, and only what the shipped policies use: a policy with egress rules or a peer with {@code ipBlock}
 * cannot be evaluated from labels and fails loudly instead of being answered wrongly.
 */
public final class NetworkPolicyEvaluator {

    /** The label Kubernetes 1.21+ puts on every namespace, with the namespace's name. */
    public static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

    private final List<NetworkPolicy> policies;
    private final Map<String, Map<String, String>> namespaceLabels = new HashMap<>();

    /**
     * @param policies   the NetworkPolicies of the cluster (at least those of the destination pods' namespaces)
     * @param namespaces the cluster's namespaces (at least those of the source pods)
     */
    public NetworkPolicyEvaluator(List<NetworkPolicy> policies, List<Namespace> namespaces) {
        for (NetworkPolicy p : policies) {
            if (p.getSpec().getEgress() != null && !p.getSpec().getEgress().isEmpty()) {
                throw new UnsupportedOperationException("egress rules are not evaluated: " + name(p));
            }
        }
        this.policies = List.copyOf(policies);
        for (Namespace ns : namespaces) {
            Map<String, String> labels = new HashMap<>(ns.getMetadata().getLabels() == null ? Map.of()
                    : ns.getMetadata().getLabels());
            labels.put(NAMESPACE_NAME_LABEL, ns.getMetadata().getName());
            namespaceLabels.put(ns.getMetadata().getName(), labels);
        }
    }

    /** Whether a connection from pod {@code from} to pod {@code to} on TCP port {@code port} is admitted. */
    public boolean admits(Pod from, Pod to, int port) {
        List<NetworkPolicy> isolating = policies.stream().filter(p -> isolates(p, to)).toList();
        if (isolating.isEmpty()) {
            return true;
        }
        return isolating.stream().anyMatch(p -> p.getSpec().getIngress() != null && p.getSpec().getIngress().stream()
                .anyMatch(rule -> admits(p, rule, from, to, port)));
    }

    /** Whether a NetworkPolicy isolates the pod for ingress. */
    public static boolean isolates(NetworkPolicy policy, Pod pod) {
        if (!Objects.equals(policy.getMetadata().getNamespace(), pod.getMetadata().getNamespace())) {
            return false;
        }
        List<String> types = policy.getSpec().getPolicyTypes();
        boolean ingress = types == null || types.isEmpty() || types.contains("Ingress");
        return ingress && matches(policy.getSpec().getPodSelector(), pod.getMetadata().getLabels());
    }

    private boolean admits(NetworkPolicy policy, NetworkPolicyIngressRule rule, Pod from, Pod to, int port) {
        boolean peer = rule.getFrom() == null || rule.getFrom().isEmpty()
                || rule.getFrom().stream().anyMatch(f -> matches(policy, f, from));
        boolean ports = rule.getPorts() == null || rule.getPorts().isEmpty()
                || rule.getPorts().stream().anyMatch(p -> matches(p, to, port));
        return peer && ports;
    }

    private boolean matches(NetworkPolicy policy, NetworkPolicyPeer peer, Pod source) {
        if (peer.getIpBlock() != null) {
            throw new UnsupportedOperationException("ipBlock peers are not evaluated: " + name(policy));
        }
        String namespace = source.getMetadata().getNamespace();
        boolean inNamespace;
        if (peer.getNamespaceSelector() == null) {
            inNamespace = namespace.equals(policy.getMetadata().getNamespace());
        } else {
            Map<String, String> labels = namespaceLabels.get(namespace);
            if (labels == null) {
                throw new IllegalArgumentException("namespace " + namespace + " of pod " + source.getMetadata().getName()
                        + " was not given");
            }
            inNamespace = matches(peer.getNamespaceSelector(), labels);
        }
        return inNamespace && (peer.getPodSelector() == null || matches(peer.getPodSelector(),
                source.getMetadata().getLabels()));
    }

    private static boolean matches(NetworkPolicyPort rule, Pod to, int port) {
        String protocol = rule.getProtocol() == null ? "TCP" : rule.getProtocol();
        if (!"TCP".equals(protocol)) {
            return false;
        }
        if (rule.getPort() == null) {
            return true;
        }
        if (rule.getPort().getStrVal() != null) {
            // A named port: the destination pod's container port of that name (and protocol).
            return to.getSpec().getContainers().stream().flatMap(c -> c.getPorts() == null ? Stream.<ContainerPort>empty() : c.getPorts().stream())
                    .filter(p -> rule.getPort().getStrVal().equals(p.getName()))
                    .filter(p -> "TCP".equals(p.getProtocol() == null ? "TCP" : p.getProtocol()))
                    .map(ContainerPort::getContainerPort).anyMatch(p -> p == port);
        }
        int first = rule.getPort().getIntVal();
        int last = rule.getEndPort() == null ? first : rule.getEndPort();
        return port >= first && port <= last;
    }

    /** Kubernetes' label-selector semantics (metav1.LabelSelectorAsSelector); a null selector matches nothing. */
    public static boolean matches(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) {
            return false;
        }
        Map<String, String> l = labels == null ? Map.of() : labels;
        if (selector.getMatchLabels() != null && !selector.getMatchLabels().entrySet().stream()
                .allMatch(e -> e.getValue().equals(l.get(e.getKey())))) {
            return false;
        }
        return selector.getMatchExpressions() == null
                || selector.getMatchExpressions().stream().allMatch(r -> matches(r, l));
    }

    private static boolean matches(LabelSelectorRequirement r, Map<String, String> labels) {
        List<String> values = r.getValues() == null ? List.of() : r.getValues();
        String value = labels.get(r.getKey());
        return switch (r.getOperator()) {
            case "In" -> {
                requireValues(r, !values.isEmpty());
                yield value != null && values.contains(value);
            }
            case "NotIn" -> {
                requireValues(r, !values.isEmpty());
                yield value == null || !values.contains(value);
            }
            case "Exists" -> {
                requireValues(r, values.isEmpty());
                yield labels.containsKey(r.getKey());
            }
            case "DoesNotExist" -> {
                requireValues(r, values.isEmpty());
                yield !labels.containsKey(r.getKey());
            }
            default -> throw new IllegalArgumentException("not a label selector operator: " + r.getOperator());
        };
    }

    /** What the API server's validation refuses: values with Exists/DoesNotExist, none with In/NotIn. */
    private static void requireValues(LabelSelectorRequirement r, boolean valid) {
        if (!valid) {
            throw new IllegalArgumentException("invalid requirement " + r.getKey() + " " + r.getOperator() + " "
                    + r.getValues());
        }
    }

    private static String name(NetworkPolicy p) {
        return p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
    }
}
