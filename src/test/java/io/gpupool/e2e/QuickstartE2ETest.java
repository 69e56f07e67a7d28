package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.apiserver.InProcessOperator;
import io.gpupool.apiserver.RealKubeApiServer;
import io.gpupool.cluster.SimulatedKubelet;
import io.gpupool.testing.PoolFixtures;

/**
 * The README's quickstart, typed as a person types it, with the real kubectl 1.20 against the real control plane and
 * the operator running: the API and the examples applied, a node contributed by label, a model served; then what a
 * person reads: {@code kubectl get gpupool-all -A}, {@code kubectl get md}, {@code kubectl explain
 * modeldeployment.spec}, {@code kubectl describe md}.
 */
@EndToEnd
class QuickstartE2ETest {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String NODE = "a100-80g-01";

    private static KubernetesClient client;
    private static Kubectl kubectl;
    private static InProcessOperator operator;

    @BeforeAll
    static void start(RealKubeApiServer.Server server) {
        client = server.admin();
        kubectl = new Kubectl(server.controlPlane().kubeconfig());
    }

    @AfterAll
    static void cleanUp() {
        try {
            // As a person leaves: the model first (while the operator runs, so that it releases the GPUs, and the finalizer of one with work outside its namespace goes), then the rest.
            kubectl.exec("delete", "-f", "examples/10-modeldeployment-llama-8b.yaml", "--wait=true", "--timeout=60s");
            kubectl.exec("delete", "secret", "hf-token", "-n", "uni-nlp");
            // The garbage collector takes its pods with their ReplicaSets and the kubelet confirms them gone: wait for
            // that before the node goes, or the next class sees pods bound to a node that no longer exists.
            await().atMost(WAIT).until(() -> client.pods().inNamespace("uni-nlp")
                    .withLabel(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY).list().getItems().isEmpty());
        } finally {
            if (operator != null) {
                operator.close();
            }
            kubectl.exec("delete", "-f", "examples/00-gpupool.yaml", "-f", "examples/01-gpuclasses.yaml", "-f",
                    "examples/02-organizations.yaml");
            kubectl.exec("delete", "node", NODE);
            kubectl.exec("delete", "gpunodes", "-n", "gpupool-cluster-local", NODE);
        }
    }

    @Test
    void theReadmeQuickstartWithTheRealKubectl() {
        assertThat(kubectl.run("version", "--client", "--short")).contains("v1.20");
        // kubectl before 1.25 validates a CRD's schema against its own (older) model, in which the CEL rules
        // (x-kubernetes-validations) are unknown: the README says to add --validate=false there.
        assertThat(kubectl.exec("apply", "-f", "crds/").output()).contains("unknown field \"x-kubernetes-validations\"");
        String crds = kubectl.run("apply", "-f", "crds/", "--validate=false");
        assertThat(crds).contains("customresourcedefinition.apiextensions.k8s.io/modeldeployments.gpupool.io");
        await().atMost(WAIT).until(() -> kubectl.exec("get", "crd", "modeldeployments.gpupool.io").exitCode() == 0);
        kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s");
        String policy = kubectl.run("apply", "-f", "examples/00-gpupool.yaml", "-f", "examples/01-gpuclasses.yaml",
                "-f", "examples/02-organizations.yaml", "-f", "examples/03-namespaces.yaml");
        assertThat(policy).contains("gpupool.gpupool.io/default", "namespace/uni-nlp");

        // "run the operator", then contribute a GPU node of your own cluster (its kubelet registers it first).
        operator = InProcessOperator.start(client);
        SimulatedKubelet.registerNode(client, PoolFixtures.node(NODE, null));
        kubectl.run("label", "node", NODE, "gpupool.io/organization=uni-nlp");
        // The example reads a gated model's token from this Secret.
        kubectl.run("create", "secret", "generic", "hf-token", "-n", "uni-nlp", "--from-literal=token=hf_example");

        String applied = kubectl.run("apply", "-f", "examples/10-modeldeployment-llama-8b.yaml");
        assertThat(applied).contains("modeldeployment.gpupool.io/llama-8b created");
        // The real controllers and scheduler run its two replicas on the node: Running.
        await().atMost(WAIT).until(() -> {
            ModelDeployment md = client.resources(ModelDeployment.class).inNamespace("uni-nlp").withName("llama-8b").get();
            return md != null && md.getStatus() != null && "Running".equals(md.getStatus().phase);
        });

        String all = kubectl.run("get", "gpupool-all", "-A");
        assertThat(all).contains("modeldeployment.gpupool.io/llama-8b", "gpunode.gpupool.io/" + NODE,
                "organization.gpupool.io/uni-nlp", "gpuclass.gpupool.io/a100-80g", "gpupool.gpupool.io/default");
        String mds = kubectl.run("get", "md", "-n", "uni-nlp");
        assertThat(mds.lines().findFirst().orElseThrow()).contains("NAME", "PHASE");
        assertThat(mds).containsPattern("llama-8b\\s+.*Running");
        String explain = kubectl.run("explain", "modeldeployment.spec");
        assertThat(explain).contains("KIND:     ModelDeployment", "FIELDS:", "replicas", "gpu", "model");
        String described = kubectl.run("describe", "md", "llama-8b", "-n", "uni-nlp");
        assertThat(described).contains("Admitted", "Ready", "Events:");
        String pods = kubectl.run("get", "pods", "-n", "uni-nlp", "-o", "wide");
        assertThat(pods).containsPattern("llama-8b-\\S+\\s+1/1\\s+Running\\s+.*" + NODE);
        System.out.println("[e2e] kubectl get gpupool-all -A\n" + all + "[e2e] kubectl get md -n uni-nlp\n" + mds
                + "[e2e] kubectl get pods -n uni-nlp -o wide\n" + pods);
    }
}
