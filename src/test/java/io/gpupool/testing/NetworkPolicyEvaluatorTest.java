package io.gpupool.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;

/**
 * The evaluator the NetworkPolicy tests of the API-server tier rely on, on the cases the Kubernetes documentation
 * spells out: it must be right before it can say a policy is.
 */
class NetworkPolicyEvaluatorTest {

    private static final List<Namespace> NAMESPACES = List.of(namespace("web", Map.of("team", "web")),
            namespace("ops", Map.of("team", "ops")), namespace("other", Map.of()));
    private static final Pod SERVER = pod("web", "server", Map.of("app", "server"));
    private static final Pod WEB_CLIENT = pod("web", "client", Map.of("role", "client"));
    private static final Pod OPS_CLIENT = pod("ops", "client", Map.of("role", "client"));
    private static final Pod OPS_OTHER = pod("ops", "other", Map.of("role", "batch"));
    private static final Pod STRANGER = pod("other", "client", Map.of("role", "client"));

    @Test
    void aPodNoPolicySelectsAcceptsEverything() {
        var policy = policy().withNewSpec().withPodSelector(selector(Map.of("app", "db")))
                .withPolicyTypes("Ingress").endSpec().build();
        var evaluator = new NetworkPolicyEvaluator(List.of(policy), NAMESPACES);
        assertThat(evaluator.admits(STRANGER, SERVER, 80)).isTrue();
        assertThat(new NetworkPolicyEvaluator(List.of(), NAMESPACES).admits(STRANGER, SERVER, 1)).isTrue();
    }

    @Test
    void aSelectingPolicyWithoutRulesDeniesEverythingAndAnEmptyPodSelectorSelectsAll() {
        var denyAll = policy().withNewSpec().withPodSelector(new LabelSelector())
                .withPolicyTypes("Ingress").endSpec().build();
        var evaluator = new NetworkPolicyEvaluator(List.of(denyAll), NAMESPACES);
        assertThat(evaluator.admits(WEB_CLIENT, SERVER, 80)).isFalse();
        // A policy of another namespace selects nothing here.
        denyAll.getMetadata().setNamespace("ops");
        assertThat(new NetworkPolicyEvaluator(List.of(denyAll), NAMESPACES).admits(WEB_CLIENT, SERVER, 80)).isTrue();
    }

    @Test
    void peersSelectPodsOfTheOwnNamespaceNamespacesOrBoth() {
        // podSelector alone: pods of the policy's namespace.
        var sameNamespace = evaluator(new NetworkPolicyPeerBuilder().withPodSelector(selector(Map.of("role", "client")))
                .build());
        assertThat(sameNamespace.admits(WEB_CLIENT, SERVER, 80)).isTrue();
        assertThat(sameNamespace.admits(OPS_CLIENT, SERVER, 80)).isFalse();
        // namespaceSelector alone: every pod of the selected namespaces.
        var ops = evaluator(new NetworkPolicyPeerBuilder().withNamespaceSelector(selector(Map.of("team", "ops"))).build());
        assertThat(ops.admits(OPS_CLIENT, SERVER, 80)).isTrue();
        assertThat(ops.admits(OPS_OTHER, SERVER, 80)).isTrue();
        assertThat(ops.admits(WEB_CLIENT, SERVER, 80)).isFalse();
        // Both in one peer: those pods in those namespaces.
        var both = evaluator(new NetworkPolicyPeerBuilder().withNamespaceSelector(selector(Map.of("team", "ops")))
                .withPodSelector(selector(Map.of("role", "client"))).build());
        assertThat(both.admits(OPS_CLIENT, SERVER, 80)).isTrue();
        assertThat(both.admits(OPS_OTHER, SERVER, 80)).isFalse();
        assertThat(both.admits(STRANGER, SERVER, 80)).isFalse();
        assertThat(both.admits(WEB_CLIENT, SERVER, 80)).isFalse();
        // Two peers: either.
        var either = evaluator(new NetworkPolicyPeerBuilder().withNamespaceSelector(selector(Map.of("team", "ops")))
                .build(), new NetworkPolicyPeerBuilder().withPodSelector(selector(Map.of("role", "client"))).build());
        assertThat(either.admits(OPS_OTHER, SERVER, 80)).isTrue();
        assertThat(either.admits(WEB_CLIENT, SERVER, 80)).isTrue();
        assertThat(either.admits(STRANGER, SERVER, 80)).isFalse();
    }

    @Test
    void namespacesCarryTheirNameLabelAsNewerApiServersSetIt() {
        var byName = evaluator(new NetworkPolicyPeerBuilder().withNamespaceSelector(selector(Map.of(
                NetworkPolicyEvaluator.NAMESPACE_NAME_LABEL, "ops"))).build());
        assertThat(byName.admits(OPS_CLIENT, SERVER, 80)).isTrue();
        assertThat(byName.admits(STRANGER, SERVER, 80)).isFalse();
        // A namespace that wrote another value under that label still carries its own name (the API server sets it).
        var forged = new NetworkPolicyEvaluator(List.of(policyWith(new NetworkPolicyPeerBuilder().withNamespaceSelector(
                selector(Map.of(NetworkPolicyEvaluator.NAMESPACE_NAME_LABEL, "ops"))).build())),
                List.of(namespace("other", Map.of(NetworkPolicyEvaluator.NAMESPACE_NAME_LABEL, "ops"))));
        assertThat(forged.admits(STRANGER, SERVER, 80)).isFalse();
    }

    @Test
    void portsByNumberRangeAndNameOnTcp() {
        var peer = new NetworkPolicyPeerBuilder().withNamespaceSelector(new LabelSelector()).build();
        NetworkPolicy policy = policyWith(peer);
        policy.getSpec().getIngress().get(0).setPorts(List.of(
                new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder().withPort(new IntOrString(8000))
                        .build(),
                new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder().withPort(new IntOrString(9000))
                        .withEndPort(9002).build(),
                new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder()
                        .withPort(new IntOrString("metrics")).build(),
                new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder().withProtocol("UDP")
                        .withPort(new IntOrString(53)).build()));
        var evaluator = new NetworkPolicyEvaluator(List.of(policy), NAMESPACES);
        Pod server = new PodBuilder(SERVER).editSpec().addNewContainer().withName("c").addNewPort().withName("metrics")
                .withContainerPort(7070).endPort().endContainer().endSpec().build();
        assertThat(evaluator.admits(STRANGER, server, 8000)).isTrue();
        assertThat(evaluator.admits(STRANGER, server, 8001)).isFalse();
        assertThat(evaluator.admits(STRANGER, server, 9002)).isTrue();
        assertThat(evaluator.admits(STRANGER, server, 9003)).isFalse();
        assertThat(evaluator.admits(STRANGER, server, 7070)).isTrue();
        assertThat(evaluator.admits(STRANGER, server, 53)).isFalse(); // UDP only
    }

    @Test
    void selectorExpressionsFollowKubernetes() {
        Map<String, String> labels = Map.of("tier", "gpu", "zone", "a");
        assertThat(NetworkPolicyEvaluator.matches(new LabelSelector(), Map.of())).isTrue();
        assertThat(NetworkPolicyEvaluator.matches(null, labels)).isFalse();
        assertThat(NetworkPolicyEvaluator.matches(expression("tier", "In", "gpu", "cpu"), labels)).isTrue();
        assertThat(NetworkPolicyEvaluator.matches(expression("tier", "In", "cpu"), labels)).isFalse();
        assertThat(NetworkPolicyEvaluator.matches(expression("tier", "NotIn", "cpu"), labels)).isTrue();
        assertThat(NetworkPolicyEvaluator.matches(expression("missing", "NotIn", "cpu"), labels)).isTrue();
        assertThat(NetworkPolicyEvaluator.matches(expression("zone", "Exists"), labels)).isTrue();
        assertThat(NetworkPolicyEvaluator.matches(expression("zone", "DoesNotExist"), labels)).isFalse();
        // matchLabels and matchExpressions must both hold.
        LabelSelector both = new LabelSelectorBuilder(expression("zone", "Exists")).addToMatchLabels("tier", "cpu").build();
        assertThat(NetworkPolicyEvaluator.matches(both, labels)).isFalse();
        assertThatThrownBy(() -> NetworkPolicyEvaluator.matches(expression("zone", "Exists", "a"), labels))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void whatItCannotEvaluateFailsLoudly() {
        var ipBlock = evaluator(new NetworkPolicyPeerBuilder().withNewIpBlock().withCidr("10.0.0.0/8").endIpBlock().build());
        assertThatThrownBy(() -> ipBlock.admits(STRANGER, SERVER, 80)).isInstanceOf(UnsupportedOperationException.class);
        NetworkPolicy egress = policyWith(new NetworkPolicyPeerBuilder().withPodSelector(new LabelSelector()).build());
        egress.getSpec().setEgress(List.of(new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule()));
        assertThatThrownBy(() -> new NetworkPolicyEvaluator(List.of(egress), NAMESPACES))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    private static NetworkPolicyEvaluator evaluator(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer... peers) {
        return new NetworkPolicyEvaluator(List.of(policyWith(peers)), NAMESPACES);
    }

    /** A policy of namespace web selecting the server, with one ingress rule from these peers on every port. */
    private static NetworkPolicy policyWith(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer... peers) {
        return policy().withNewSpec().withPodSelector(selector(Map.of("app", "server")))
                .withPolicyTypes("Ingress").addNewIngress().withFrom(peers).endIngress().endSpec().build();
    }

    private static NetworkPolicyBuilder policy() {
        return new NetworkPolicyBuilder().withNewMetadata().withName("p").withNamespace("web").endMetadata();
    }

    private static LabelSelector selector(Map<String, String> labels) {
        return new LabelSelectorBuilder().withMatchLabels(labels).build();
    }

    private static LabelSelector expression(String key, String operator, String... values) {
        return new LabelSelectorBuilder().addNewMatchExpression().withKey(key).withOperator(operator).withValues(values)
                .endMatchExpression().build();
    }

    private static Namespace namespace(String name, Map<String, String> labels) {
        return new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().build();
    }

    private static Pod pod(String namespace, String name, Map<String, String> labels) {
        return new PodBuilder().withNewMetadata().withNamespace(namespace).withName(name).withLabels(labels).endMetadata()
                .withNewSpec().endSpec().build();
    }
}
