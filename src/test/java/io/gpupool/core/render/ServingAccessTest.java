package io.gpupool.core.render;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.testing.PoolFixtures;

/** Serving pods admit the gateway, and their own namespace only where the pool allows it. */
class ServingAccessTest {

    @Test
    void onlyTheGatewayOfThePoolsNamespaceMayConnect() {
        var md = PoolFixtures.modelDeployment("uni-nlp", "llama-8b", 1, 1);
        var policy = ServingAccess.from(new GpuPoolSpec(), "gpupool-system").networkPolicy(md);
        assertThat(policy.getMetadata().getName()).isEqualTo("llama-8b");
        assertThat(policy.getMetadata().getNamespace()).isEqualTo("uni-nlp");
        assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
        // It selects the ModelDeployment's pods and only those.
        var pods = ServingRenderer.deployment(md, new Placement("local", "n1", "l4", 1), ServingSettings.DEFAULT)
                .getSpec().getTemplate().getMetadata().getLabels();
        assertThat(pods).containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
        assertThat(policy.getSpec().getPodSelector().getMatchLabels()).containsEntry("gpupool.io/model-deployment",
                "llama-8b");
        assertThat(policy.getSpec().getIngress()).singleElement().satisfies(rule -> {
            assertThat(rule.getFrom()).singleElement().satisfies(peer -> {
                // Pod and namespace in one peer: a tenant's pod labelled as a gateway is in the wrong namespace.
                assertThat(peer.getPodSelector().getMatchLabels()).isEqualTo(Map.of("app.kubernetes.io/component",
                        "gateway"));
                assertThat(peer.getNamespaceSelector().getMatchLabels()).isEqualTo(Map.of("kubernetes.io/metadata.name",
                        "gpupool-system"));
            });
            assertThat(rule.getPorts()).singleElement().satisfies(p -> {
                assertThat(p.getPort().getIntVal()).isEqualTo(ServingContract.PORT);
                assertThat(p.getProtocol()).isEqualTo("TCP");
            });
        });
    }

    @Test
    void thePoolMayAlsoAdmitTheModelDeploymentsOwnNamespace() {
        GpuPoolSpec pool = new GpuPoolSpec();
        pool.servingAccess.allowSameNamespace = true;
        var policy = ServingAccess.from(pool, "gp").networkPolicy(PoolFixtures.modelDeployment("lab", "m", 1, 1));
        assertThat(policy.getSpec().getIngress()).hasSize(2);
        var sameNamespace = policy.getSpec().getIngress().get(1).getFrom();
        // A bare podSelector: every pod of the policy's own namespace, of no other.
        assertThat(sameNamespace).singleElement().satisfies(peer -> {
            assertThat(peer.getNamespaceSelector()).isNull();
            assertThat(peer.getPodSelector().getMatchLabels()).isNullOrEmpty();
        });
    }
}
