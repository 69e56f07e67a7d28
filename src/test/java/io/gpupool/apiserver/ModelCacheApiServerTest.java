package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelCache;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.render.ModelCacheClaims;
import io.gpupool.testing.PoolFixtures;

/**
 * The node-shared model cache on a real API server, with the real PersistentVolume binder and kube-scheduler: with
 * GpuPool.spec.modelCache set, the operator creates one claim per namespace and node (no owner, so the garbage
 * collector leaves it), the replicas a namespace runs on a node all mount it and run, bound to a node-local volume of
 * a WaitForFirstConsumer class, as local-path gives it; another organization's replica on the same node mounts a claim
 * of its own namespace; a claim outlives the ModelDeployments and is created again when deleted while in use.
 */
@ApiServerTier
class ModelCacheApiServerTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String NS_A = "cache-team-a";
    private static final String NS_B = "cache-team-b";
    private static final String ORG_A = "cache-org-a";
    private static final String ORG_B = "cache-org-b";
    /** A node of this class's own (other classes contribute the fixture under its own name). */
    private static final String NODE = "cache-a100-01";
    /** A class that binds like local-path: a volume on the node, chosen when the first pod is scheduled. */
    private static final String STORAGE_CLASS = "gpupool-test-node-local";

    private static KubernetesClient client;
    private static TestPool pool;
    private static InProcessOperator operator;

    @BeforeAll
    static void start(RealKubeApiServer.Server server) {
        server.applyCrds();
        client = server.admin();
        client.resource(new StorageClassBuilder().withNewMetadata().withName(STORAGE_CLASS).endMetadata()
                .withProvisioner("kubernetes.io/no-provisioner").withVolumeBindingMode("WaitForFirstConsumer").build())
                .createOr(r -> r.update());
        // Two volumes on the node (what local-path would provision): one for each namespace's claim.
        for (String pv : List.of("cache-pv-1", "cache-pv-2")) {
            client.resource(new PersistentVolumeBuilder().withNewMetadata().withName(pv).endMetadata().withNewSpec()
                    .withCapacity(java.util.Map.of("storage", new Quantity("100Gi")))
                    .withAccessModes("ReadWriteOnce").withStorageClassName(STORAGE_CLASS)
                    .withPersistentVolumeReclaimPolicy("Retain")
                    .withNewLocal().withPath("/var/lib/gpupool-test/" + pv).endLocal()
                    .withNewNodeAffinity().withNewRequired().addNewNodeSelectorTerm().addNewMatchExpression()
                    .withKey("kubernetes.io/hostname").withOperator("In").withValues(NODE).endMatchExpression()
                    .endNodeSelectorTerm().endRequired().endNodeAffinity()
                    .endSpec().build()).createOr(r -> r.update());
        }
        GpuPool gpuPool = new GpuPool();
        gpuPool.setMetadata(new ObjectMetaBuilder().withName(GpuPool.DEFAULT_NAME).build());
        gpuPool.getSpec().modelCache = new ModelCache();
        gpuPool.getSpec().modelCache.storageClassName = STORAGE_CLASS;
        gpuPool.getSpec().modelCache.size = "50Gi";
        client.resource(gpuPool).createOr(r -> r.update());
        pool = new TestPool(client).member(NS_A, ORG_A).member(NS_B, ORG_B)
                .gpuClass("a100-80g", 80000, "NVIDIA-A100-SXM4-80GB");
        operator = InProcessOperator.start(client);
        var node = PoolFixtures.node("a100-80g-01", ORG_A);
        node.getMetadata().setName(NODE);
        node.getMetadata().getLabels().put("kubernetes.io/hostname", NODE);
        pool.contribute(node);
    }

    @AfterAll
    static void stop() {
        try {
            TestPool.tearDown(pool, operator);
        } finally {
            client.resources(GpuPool.class).withName(GpuPool.DEFAULT_NAME).delete();
            for (String ns : List.of(NS_A, NS_B)) {
                client.persistentVolumeClaims().inNamespace(ns).withLabel("app.kubernetes.io/component",
                        ModelCacheClaims.COMPONENT).delete();
            }
            client.persistentVolumes().withName("cache-pv-1").delete();
            client.persistentVolumes().withName("cache-pv-2").delete();
            client.storage().v1().storageClasses().withName(STORAGE_CLASS).delete();
        }
    }

    static void apply(String ns, String name, int replicas) {
        ModelDeployment md = PoolFixtures.modelDeployment(ns, name, replicas, 1);
        md.getSpec().gpu.classes = List.of("a100-80g");
        md.getSpec().model.maxContextLength = 4096;
        client.resource(md).fieldManager("kubectl").forceConflicts().serverSideApply();
    }

    static List<Pod> pods(String ns, String md) {
        return client.pods().inNamespace(ns).withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, md).list().getItems();
    }

    static boolean running(Pod p) {
        return p.getStatus() != null && "Running".equals(p.getStatus().getPhase());
    }

    /** The claim each pod's models volume names (null: an emptyDir). */
    static Set<String> claimsOf(List<Pod> pods) {
        return pods.stream().map(p -> p.getSpec().getVolumes().stream()
                .filter(v -> ModelCacheClaims.VOLUME.equals(v.getName())).findFirst().orElseThrow())
                .map(v -> v.getPersistentVolumeClaim() == null ? "emptyDir" : v.getPersistentVolumeClaim().getClaimName())
                .collect(Collectors.toSet());
    }

    static List<PersistentVolumeClaim> claims(String ns) {
        return client.persistentVolumeClaims().inNamespace(ns)
                .withLabel("app.kubernetes.io/component", ModelCacheClaims.COMPONENT).list().getItems();
    }

    @Test
    void theReplicasOfANamespaceOnANodeShareItsClaimAndAnotherOrganizationNeverDoes() {
        apply(NS_A, "llama", 2);
        apply(NS_A, "qwen", 1);
        // Until every pod runs with a claim: the first reconciles may render before the operator's informer has the
        // GpuPool's modelCache, and its arrival rolls the Deployments over to the claim.
        await().atMost(WAIT).until(() -> pods(NS_A, "llama").size() == 2 && pods(NS_A, "qwen").size() == 1
                && pods(NS_A, "llama").stream().allMatch(ModelCacheApiServerTest::running)
                && pods(NS_A, "qwen").stream().allMatch(ModelCacheApiServerTest::running)
                && !claimsOf(pods(NS_A, "llama")).contains("emptyDir")
                && !claimsOf(pods(NS_A, "qwen")).contains("emptyDir"));

        // One claim in the namespace, for the node; all three replicas mount it.
        assertThat(claims(NS_A)).singleElement().satisfies(c -> {
            assertThat(c.getMetadata().getOwnerReferences()).isNullOrEmpty();
            assertThat(c.getMetadata().getAnnotations()).containsEntry("gpupool.io/node", NODE);
            assertThat(c.getSpec().getStorageClassName()).isEqualTo(STORAGE_CLASS);
            assertThat(c.getStatus().getPhase()).isEqualTo("Bound");
        });
        String claimA = claims(NS_A).get(0).getMetadata().getName();
        assertThat(claimsOf(pods(NS_A, "llama"))).containsExactly(claimA);
        assertThat(claimsOf(pods(NS_A, "qwen"))).containsExactly(claimA);
        assertThat(pods(NS_A, "llama")).allSatisfy(p -> assertThat(p.getSpec().getNodeName()).isEqualTo(NODE));
        String volumeA = claims(NS_A).get(0).getSpec().getVolumeName();

        // Another organization's replica on the same node: a claim of its own namespace, on a volume of its own.
        apply(NS_B, "mistral", 1);
        await().atMost(WAIT).until(() -> {
            List<Pod> now = pods(NS_B, "mistral");
            return now.size() == 1 && running(now.get(0));
        });
        assertThat(pods(NS_B, "mistral").get(0).getSpec().getNodeName()).isEqualTo(NODE);
        assertThat(claims(NS_B)).singleElement().satisfies(c -> {
            assertThat(c.getStatus().getPhase()).isEqualTo("Bound");
            assertThat(c.getSpec().getVolumeName()).isNotEqualTo(volumeA);
        });
        assertThat(claimsOf(pods(NS_B, "mistral"))).containsExactly(claims(NS_B).get(0).getMetadata().getName());

        // The claims outlive the ModelDeployments: the garbage collector takes the pods, not the cached models.
        client.resources(ModelDeployment.class).inNamespace(NS_A).withName("qwen").delete();
        client.resources(ModelDeployment.class).inNamespace(NS_A).withName("llama").delete();
        await().atMost(WAIT).until(() -> pods(NS_A, "llama").isEmpty() && pods(NS_A, "qwen").isEmpty());
        assertThat(claims(NS_A)).extracting(c -> c.getMetadata().getName()).containsExactly(claimA);

        // A claim deleted while in use (the protection finalizer keeps it until its pod goes) is created again.
        String uid = claims(NS_B).get(0).getMetadata().getUid();
        client.persistentVolumeClaims().inNamespace(NS_B).withName(claims(NS_B).get(0).getMetadata().getName()).delete();
        client.pods().inNamespace(NS_B).withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, "mistral").delete();
        await().atMost(WAIT).until(() -> {
            List<PersistentVolumeClaim> now = claims(NS_B); // read once: the old claim may go between two reads
            return now.size() == 1 && !uid.equals(now.get(0).getMetadata().getUid());
        });
        assertThat(operator.reconciles().failures()).isZero();
    }
}
