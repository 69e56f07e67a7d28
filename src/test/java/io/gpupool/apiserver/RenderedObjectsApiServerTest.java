package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.SecretKeyRef;
import io.gpupool.core.render.ServingAccess;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.core.validation.ModelDeploymentValidator;
import io.gpupool.testing.PoolFixtures;

/**
 * Input that passes the schema but that the API server refuses in the objects rendered from it: the validator must
 * refuse it first (InvalidSpec, nothing booked), because otherwise every apply of the serving workload fails while the
 * replicas' GPUs stay booked. For each case the rendered Deployment, Service and NetworkPolicy are created on the real
 * API server in dry-run mode: whatever the validator accepts, the server accepts.
 */
@ApiServerTier
class RenderedObjectsApiServerTest {

    private static final String NS = "rendered-objects";
    private static KubernetesClient admin;
    private static TestPool pool;

    @BeforeAll
    static void namespace(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        pool = new TestPool(admin).member(NS, "rendered-org");
    }

    @AfterAll
    static void cleanUp() {
        if (pool != null) {
            pool.close();
        }
    }

    private static SecretKeyRef token(String name, String key) {
        SecretKeyRef ref = new SecretKeyRef();
        ref.name = name;
        ref.key = key;
        return ref;
    }

    private static EnvVarBuilder env(String name) {
        return new EnvVarBuilder().withName(name);
    }

    @Test
    void whateverTheValidatorAcceptsTheApiServerAcceptsRendered() {
        Map<String, Consumer<ModelDeployment>> cases = new LinkedHashMap<>();
        cases.put("plain", m -> {
        });
        cases.put("empty-value-from", m -> m.getSpec().env = List.of(env("A").withNewValueFrom().endValueFrom().build()));
        cases.put("two-sources", m -> m.getSpec().env = List.of(env("A").withNewValueFrom().withNewFieldRef()
                .withFieldPath("metadata.name").endFieldRef().withNewResourceFieldRef().withResource("limits.cpu")
                .endResourceFieldRef().endValueFrom().build()));
        cases.put("bad-field-path", m -> m.getSpec().env = List.of(env("A").withNewValueFrom().withNewFieldRef()
                .withFieldPath("spec.containers[0].image").endFieldRef().endValueFrom().build()));
        cases.put("bad-resource", m -> m.getSpec().env = List.of(env("A").withNewValueFrom().withNewResourceFieldRef()
                .withResource("limits.nvidia.com/gpu").endResourceFieldRef().endValueFrom().build()));
        cases.put("other-container", m -> m.getSpec().env = List.of(env("A").withNewValueFrom()
                .withNewResourceFieldRef().withResource("limits.memory").withContainerName("sidecar")
                .endResourceFieldRef().endValueFrom().build()));
        cases.put("field-ref", m -> m.getSpec().env = List.of(env("POD").withNewValueFrom().withNewFieldRef()
                .withFieldPath("metadata.labels['gpupool.io/model-deployment']").endFieldRef().endValueFrom().build(),
                env("MEM").withNewValueFrom().withNewResourceFieldRef().withResource("limits.memory")
                        .endResourceFieldRef().endValueFrom().build()));
        cases.put("value-and-value-from", m -> m.getSpec().env = List.of(env("A").withValue("x").withNewValueFrom()
                .withNewFieldRef().withFieldPath("metadata.name").endFieldRef().endValueFrom().build()));
        cases.put("bad-env-name", m -> m.getSpec().env = List.of(new EnvVar("1A", "x", null)));
        cases.put("dotted-env-name", m -> m.getSpec().env = List.of(new EnvVar("a.b-c", "x", null)));
        cases.put("bad-token-name", m -> m.getSpec().hfTokenSecretRef = token("Not_A_Name", "token"));
        cases.put("bad-token-key", m -> m.getSpec().hfTokenSecretRef = token("hf", "a/b"));
        cases.put("good-token", m -> m.getSpec().hfTokenSecretRef = token("hf.token", "hf_token.v1"));
        cases.put("long-name-52-characters-abcdefghijklmnopqrstuvwxyz0", m -> {
        });
        cases.put("engine-args", m -> m.getSpec().engineArgs = List.of("--enable-prefix-caching", "--max-num-seqs=64",
                "a value with spaces", "x".repeat(1024)));

        List<String> refusedByServer = new ArrayList<>();
        List<String> acceptedButRefused = new ArrayList<>();
        for (var c : cases.entrySet()) {
            String name = c.getKey().length() > 52 ? c.getKey().substring(0, 52) : c.getKey();
            ModelDeployment md = PoolFixtures.modelDeployment(NS, name, 2, 2);
            md.getMetadata().setUid("00000000-0000-0000-0000-000000000001");
            c.getValue().accept(md);
            boolean valid = ModelDeploymentValidator.validate(name, md.getSpec()).isEmpty();
            String refusal = serverRefusal(md);
            if (refusal != null) {
                refusedByServer.add(name);
                if (valid) {
                    acceptedButRefused.add(name + ": " + refusal);
                }
            }
        }
        assertThat(acceptedButRefused).as("accepted by the validator, refused by the API server").isEmpty();
        // The test can fail: the server does refuse some of these when they are rendered.
        assertThat(refusedByServer).contains("empty-value-from", "two-sources", "bad-field-path", "bad-resource",
                "bad-env-name", "bad-token-name");
    }

    /** The API server's answer to the rendered objects (dry run), or null when it accepts them all. */
    private static String serverRefusal(ModelDeployment md) {
        List<HasMetadata> rendered = new ArrayList<>(ServingRenderer.deployments(md,
                List.of(new Placement("local", "a100-80g-01", "a100-80g", 1), new Placement("local",
                        "node-with-a-much-longer-name.example.org", "a100-80g", 1)),
                ServingSettings.DEFAULT));
        rendered.add(ServingRenderer.service(md));
        rendered.add(ServingAccess.from(new GpuPoolSpec(), "gpupool-system").networkPolicy(md));
        for (HasMetadata o : rendered) {
            try {
                admin.resource(o).dryRun().create();
            } catch (KubernetesClientException e) {
                return o.getKind() + " " + e.getCode() + " " + e.getMessage();
            }
        }
        return null;
    }
}
