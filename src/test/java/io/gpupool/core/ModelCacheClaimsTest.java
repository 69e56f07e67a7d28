package io.gpupool.core;

import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.ModelCache;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.render.ModelCacheClaims;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;

/**
 * The node-shared model cache: the replicas a namespace runs on a node share one claim, in that namespace; two
 * organizations (two namespaces) never share one; replicas that may run a model's code, and replicas on contributed
 * clusters, keep a cache of their own; without GpuPool.spec.modelCache nothing changes.
 */
class ModelCacheClaimsTest {

    static final ServingSettings CACHED = ServingSettings.from(pool("local-path", "300Gi"));

    static GpuPoolSpec pool(String storageClass, String size) {
        GpuPoolSpec spec = new GpuPoolSpec();
        spec.modelCache = new ModelCache();
        spec.modelCache.storageClassName = storageClass;
        spec.modelCache.size = size;
        return spec;
    }

    static List<Placement> on(String... nodes) {
        List<Placement> out = new ArrayList<>();
        for (String node : nodes) {
            out.add(new Placement("local", node, "a100-80g", 1));
        }
        return out;
    }

    static Volume modelsVolume(Deployment d) {
        return d.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> ModelCacheClaims.VOLUME.equals(v.getName())).findFirst().orElseThrow();
    }

    /** namespace/claim of every pod template, for every ModelDeployment rendered. */
    static Set<String> claimsMounted(ModelDeployment md, List<Placement> placements, ServingSettings settings) {
        Set<String> out = new HashSet<>();
        for (Deployment d : ServingRenderer.deployments(md, placements, settings)) {
            Volume v = modelsVolume(d);
            if (v.getPersistentVolumeClaim() != null) {
                out.add(d.getMetadata().getNamespace() + "/" + v.getPersistentVolumeClaim().getClaimName());
            }
        }
        return out;
    }

    @Test
    void theReplicasOfANamespaceOnANodeShareOneClaimThatTheOperatorCreatesThere() {
        ModelDeployment llama = modelDeployment("team-a", "llama", 2, 1);
        ModelDeployment qwen = modelDeployment("team-a", "qwen", 1, 1);

        Set<String> llamaClaims = claimsMounted(llama, on("node-1", "node-2"), CACHED);
        Set<String> qwenClaims = claimsMounted(qwen, on("node-1"), CACHED);
        assertThat(llamaClaims).hasSize(2).containsAll(qwenClaims);

        List<PersistentVolumeClaim> claims = ModelCacheClaims.claims(llama, on("node-1", "node-2"), CACHED);
        assertThat(claims).extracting(c -> c.getMetadata().getNamespace() + "/" + c.getMetadata().getName())
                .containsExactlyInAnyOrderElementsOf(llamaClaims);
        assertThat(claims).allSatisfy(c -> {
            assertThat(c.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
            assertThat(c.getSpec().getStorageClassName()).isEqualTo("local-path");
            assertThat(c.getSpec().getResources().getRequests().get("storage").toString()).isEqualTo("300Gi");
            // Shared by several ModelDeployments: owned by none (the garbage collector must leave it).
            assertThat(c.getMetadata().getOwnerReferences()).isNullOrEmpty();
        });
        // The same claim from either ModelDeployment: creating it twice is creating the same object.
        assertThat(ModelCacheClaims.claims(qwen, on("node-1"), CACHED)).containsExactly(claims.get(0));
    }

    @Test
    void twoOrganizationsNeverShareAClaim() {
        // Namespaces of two organizations, every combination of nodes: a pod only ever mounts a claim of its own
        // namespace, and the claims of two namespaces are different objects, even on the same node.
        List<String> nodes = List.of("node-1", "node-2", "dgx-h100-01");
        Map<String, Set<String>> byNamespace = new HashMap<>();
        for (String ns : List.of("org-a-team", "org-b-team")) {
            for (String name : List.of("llama", "qwen")) {
                ModelDeployment md = modelDeployment(ns, name, 1, 1);
                for (String node : nodes) {
                    Set<String> mounted = claimsMounted(md, on(node), CACHED);
                    assertThat(mounted).singleElement().asString().startsWith(ns + "/");
                    assertThat(ModelCacheClaims.claims(md, on(node), CACHED)).singleElement()
                            .satisfies(c -> assertThat(c.getMetadata().getNamespace()).isEqualTo(ns));
                    byNamespace.computeIfAbsent(ns, k -> new HashSet<>()).addAll(mounted);
                }
            }
        }
        assertThat(byNamespace.get("org-a-team")).hasSize(nodes.size()).doesNotContainAnyElementsOf(
                byNamespace.get("org-b-team"));
    }

    @Test
    void replicasThatMayRunAModelsCodeKeepACacheOfTheirOwn() {
        ModelDeployment remoteCode = modelDeployment("team-a", "custom", 1, 1);
        remoteCode.getSpec().allowRemoteCode = true;
        ModelDeployment pickle = modelDeployment("team-a", "pickle", 1, 1);
        pickle.getSpec().allowUnsafeWeights = true;
        for (ModelDeployment md : List.of(remoteCode, pickle)) {
            assertThat(ModelCacheClaims.claims(md, on("node-1"), CACHED)).isEmpty();
            assertThat(ServingRenderer.deployments(md, on("node-1"), CACHED))
                    .allSatisfy(d -> assertThat(modelsVolume(d).getEmptyDir()).isNotNull());
        }
    }

    @Test
    void replicasOnContributedClustersKeepACacheOfTheirOwn() {
        ModelDeployment md = modelDeployment("team-a", "llama", 2, 1);
        List<Placement> placements = List.of(new Placement("uni-x", "gpu-7", "a100-80g", 2),
                new Placement("local", "node-1", "a100-80g", 1));
        ServingWork work = RemoteWorkRenderer.render(md, "org-a", "uni-x", placements, CACHED);
        assertThat(work.getSpec().deployments).isNotEmpty().allSatisfy(d -> {
            Deployment deployment = d.as(Deployment.class);
            assertThat(modelsVolume(deployment).getEmptyDir()).isNotNull();
            assertThat(modelsVolume(deployment).getPersistentVolumeClaim()).isNull();
        });
        assertThat(ModelCacheClaims.claims(md, placements, CACHED)).singleElement()
                .satisfies(c -> assertThat(c.getMetadata().getAnnotations()).containsEntry("gpupool.io/node", "node-1"));
    }

    @Test
    void withoutAModelCacheEveryPodHasItsOwn() {
        ModelDeployment md = modelDeployment("team-a", "llama", 2, 1);
        assertThat(ServingSettings.from(new GpuPoolSpec()).modelCache()).isNull();
        assertThat(ModelCacheClaims.claims(md, on("node-1"), ServingSettings.from(new GpuPoolSpec()))).isEmpty();
        assertThat(ServingRenderer.deployments(md, on("node-1"), ServingSettings.DEFAULT))
                .allSatisfy(d -> assertThat(modelsVolume(d).getEmptyDir()).isNotNull());
        // The size defaults as the schema says.
        assertThat(ServingSettings.from(pool("local-path", null)).modelCache().size()).isEqualTo("200Gi");
    }
}
