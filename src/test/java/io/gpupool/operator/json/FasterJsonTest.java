package io.gpupool.operator.json;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.testing.PoolFixtures;

/**
 * The client's JSON with {@link FasterJson} is the same JSON: every object the operator writes encodes to the same
 * bytes, and decodes to the same object, as with the client's default mapper.
 */
class FasterJsonTest {

    private final KubernetesSerialization plain = new KubernetesSerialization(new ObjectMapper(), true);
    private final KubernetesSerialization faster = faster();

    private static KubernetesSerialization faster() {
        ObjectMapper mapper = new ObjectMapper();
        new FasterJson().customize(mapper);
        return new KubernetesSerialization(mapper, true);
    }

    @Test
    void whatTheOperatorWritesEncodesAndDecodesTheSame() {
        ModelDeployment md = PoolFixtures.modelDeployment("lab", "llama-8b", 2, 1);
        md.getMetadata().setUid("6d1c7f5e-2f1a-4c55-9a8e-0b7f3c2a9e11");
        md.getSpec().engineArgs = List.of("--enable-prefix-caching");
        md.setStatus(new ModelDeploymentStatus());
        md.getStatus().phase = "Running";
        List<Placement> placements = List.of(new Placement("local", "node-1", "l4", 2));
        md.getStatus().placements = placements;
        Deployment deployment = ServingRenderer.deployments(md, placements, ServingSettings.DEFAULT).get(0);
        for (HasMetadata object : List.of(md, deployment, ServingRenderer.service(md))) {
            String json = plain.asJson(object);
            assertThat(faster.asJson(object)).as(object.getKind()).isEqualTo(json);
            // Decoded, it is the same object again (our own classes have no equals: compared by their JSON).
            assertThat(plain.asJson(faster.unmarshal(json, object.getClass()))).as(object.getKind()).isEqualTo(json);
        }
        String event = "{\"type\":\"ADDED\",\"object\":" + plain.asJson(deployment) + "}";
        assertThat(faster.unmarshal(event, WatchEvent.class).getObject()).isEqualTo(deployment);
    }
}
