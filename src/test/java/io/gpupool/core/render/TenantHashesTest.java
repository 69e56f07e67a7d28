package io.gpupool.core.render;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

import org.junit.jupiter.api.Test;

import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.testing.PoolFixtures;

/**
 * Names and selectors that keep tenants apart in a shared namespace (the contributor's serving namespace) carry the
 * whole SHA-256 of what they name (issue #14 item 10). A 32-bit hash can be collided on purpose in a fraction of a
 * second, as this test does: a tenant could then pick a ModelDeployment name whose work selects, replaces or deletes
 * another organization's pods.
 */
class TenantHashesTest {

    @Test
    void twoModelDeploymentsWhose32BitHashesCollideGetWorksThatSelectOnlyTheirOwnPods() throws Exception {
        String[] pair = collidingIn32Bits(i -> "team-" + i + "/chat");
        String[] a = pair[0].split("/");
        String[] b = pair[1].split("/");
        // Found in a blink: what a 32-bit name would have given both.
        assertThat(ServingRenderer.shortHash(pair[0])).isEqualTo(ServingRenderer.shortHash(pair[1]));

        ServingWork first = work(a[0], a[1]);
        ServingWork second = work(b[0], b[1]);
        String firstHash = RemoteWorkRenderer.workHash(a[0], a[1]);
        assertThat(firstHash).hasSize(52).isEqualTo(base32(sha256(pair[0])));
        assertThat(RemoteWorkRenderer.workHash(b[0], b[1])).isNotEqualTo(firstHash);
        // Their Services, Deployments and selectors share nothing.
        assertThat(second.getSpec().service().getMetadata().getName())
                .isNotEqualTo(first.getSpec().service().getMetadata().getName());
        assertThat(second.getSpec().service().getSpec().getSelector())
                .isNotEqualTo(first.getSpec().service().getSpec().getSelector());
        assertThat(second.getSpec().deployments().get(0).getSpec().getSelector().getMatchLabels())
                .isNotEqualTo(first.getSpec().deployments().get(0).getSpec().getSelector().getMatchLabels());
        assertThat(second.getSpec().deployments().get(0).getMetadata().getName())
                .isNotEqualTo(first.getSpec().deployments().get(0).getMetadata().getName());
    }

    @Test
    void nodesWhose32BitHashesCollideKeepTheirOwnLabel() throws Exception {
        String[] pair = collidingIn32Bits(i -> "lab/node-" + i);
        assertThat(ServingRenderer.shortHash(pair[0])).isEqualTo(ServingRenderer.shortHash(pair[1]));
        String[] a = pair[0].split("/");
        String[] b = pair[1].split("/");
        assertThat(ServingRenderer.nodeHash(a[0], a[1])).hasSize(52).isEqualTo(base32(sha256(pair[0])))
                .isNotEqualTo(ServingRenderer.nodeHash(b[0], b[1]));
    }

    private static ServingWork work(String namespace, String name) {
        var md = PoolFixtures.modelDeployment(namespace, name, 1, 1);
        return RemoteWorkRenderer.render(md, "org", "lab", List.of(new Placement("lab", "n1", "l4", 1)),
                ServingSettings.DEFAULT);
    }

    /** Two inputs whose SHA-256 begin with the same 32 bits (a birthday search: about 80,000 tries). */
    private static String[] collidingIn32Bits(IntFunction<String> input) throws Exception {
        Map<Integer, String> seen = new HashMap<>();
        for (int i = 0;; i++) {
            String s = input.apply(i);
            byte[] d = sha256(s);
            int prefix = ((d[0] & 0xff) << 24) | ((d[1] & 0xff) << 16) | ((d[2] & 0xff) << 8) | (d[3] & 0xff);
            String before = seen.putIfAbsent(prefix, s);
            if (before != null) {
                return new String[] { before, s };
            }
        }
    }

    private static byte[] sha256(String s) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    }

    /** RFC 4648 base32, lower case, no padding: written out here independently of the renderer's. */
    private static String base32(byte[] bytes) {
        String alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        StringBuilder out = new StringBuilder();
        java.math.BigInteger n = new java.math.BigInteger(1, bytes).shiftLeft(4); // 256 bits + 4 = 52 groups of 5
        for (int i = 51; i >= 0; i--) {
            out.append(alphabet.charAt(n.shiftRight(5 * i).intValue() & 31));
        }
        return out.toString();
    }
}
