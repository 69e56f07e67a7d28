package io.gpupool.playground;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.inventory.NodeTrust;

/**
 * The playground's embedded path end to end with its contributed cluster: the packaged application runs as the
 * operator and as home-lab's agent, each in its own JVM (built from target/classes when stale, see
 * {@link PackagedApplication}); the pool admin approves home-lab, the agent joins with the kubeconfig the operator
 * issued, and a model that only fits home-lab's RTX cards is served there.
 */
class PlaygroundContributedClusterTest {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String HUB_NS = NodeTrust.hubNamespace(Playground.HOME_LAB);

    @Test
    void aContributedClusterJoinsThroughTheRealAgentAndServesAModel() throws Exception {
        Path jar = PackagedApplication.buildEmbeddedIfStale();
        Path workDir = Files.createDirectories(Path.of("target", "playground-test"));
        try (Playground playground = new Playground(PlaygroundApiServer.start(workDir, true), workDir, jar)) {
            KubernetesClient pool = playground.client();
            playground.installApi();
            playground.startServices();
            playground.approveAndStartAgent();

            // Every contributed machine of home-lab is a GpuNode at the pool, registered by the agent with a heartbeat.
            await().atMost(WAIT).until(() -> playground.registeredNodes(Playground.HOME_LAB) == 3);
            List<GpuNode> nodes = pool.resources(GpuNode.class).inNamespace(HUB_NS).list().getItems();
            assertThat(nodes).extracting(n -> n.getSpec().nodeName)
                    .containsExactlyInAnyOrder("rtx4090-home-01", "rtx4090-home-02", "t4-01");
            assertThat(nodes).allSatisfy(n -> {
                assertThat(n.getSpec().cluster).isEqualTo(Playground.HOME_LAB);
                assertThat(n.getSpec().organization).isEqualTo(Playground.HOME_COLLECTIVE);
                assertThat(n.getStatus().lastHeartbeatTime).isNotBlank();
            });

            // The Qwen coder asks for an RTX 4090 (class rtx-24g): only home-lab has them.
            playground.apply(Path.of("examples", "11-modeldeployment-qwen-gguf.yaml"));
            await().atMost(WAIT).until(() -> placements(pool).stream()
                    .anyMatch(p -> Playground.HOME_LAB.equals(p.cluster) && p.replicas == 1));
            Placement placed = placements(pool).get(0);
            assertThat(placements(pool)).hasSize(1);

            // The pool wrote a ServingWork; the agent runs it as a Deployment in the contributor's own API server, on
            // the placed node, and the (simulated) kubelet makes it ready.
            await().atMost(WAIT).until(() -> readyDeployments(playground).size() == 1);
            Deployment d = readyDeployments(playground).get(0);
            assertThat(d.getMetadata().getNamespace()).isEqualTo(playground.homeLab().chart.servingNamespace());
            assertThat(d.getSpec().getTemplate().getSpec().getAffinity().getNodeAffinity()
                    .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms().get(0).getMatchFields()
                    .get(0).getValues()).containsExactly(placed.node);

            // Readiness flows back: the agent reports it in the work's status, the operator in the ModelDeployment's.
            await().atMost(WAIT).until(() -> {
                ServingWork w = pool.resources(ServingWork.class).inNamespace(HUB_NS)
                        .withName("home-collective.qwen-coder").get();
                return w != null && w.getStatus() != null && Integer.valueOf(1).equals(w.getStatus().readyReplicas);
            });
            await().atMost(WAIT).until(() -> {
                ModelDeployment md = qwen(pool);
                return md.getStatus() != null && md.getStatus().replicas != null && md.getStatus().replicas.ready == 1
                        && "Running".equals(md.getStatus().phase);
            });
        }
    }

    private static ModelDeployment qwen(KubernetesClient pool) {
        return pool.resources(ModelDeployment.class).inNamespace("home-collective").withName("qwen-coder").get();
    }

    private static List<Placement> placements(KubernetesClient pool) {
        ModelDeployment md = qwen(pool);
        return md == null || md.getStatus() == null || md.getStatus().placements == null ? List.of()
                : md.getStatus().placements;
    }

    private static List<Deployment> readyDeployments(Playground playground) {
        return playground.homeLab().servingDeployments().stream()
                .filter(d -> d.getStatus() != null && Integer.valueOf(1).equals(d.getStatus().getReadyReplicas()))
                .toList();
    }
}
