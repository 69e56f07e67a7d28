package io.gpupool.operator.modeldeployment;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.core.discovery.NodeGpuDiscovery;

class ServingWarmUpTest {

    /**
     * The warm-up goes through the path the first real serving Deployment takes (a GPU-serving rendering, its hash,
     * its JSON both ways), so what it warms is that path; were the made-up ModelDeployment to stop rendering, this fails
     * instead of the warm-up quietly doing nothing.
     */
    @Test
    void rendersHashesAndEncodesAServingDeploymentWithoutWritingIt() {
        Deployment d = ServingWarmUp.run(new KubernetesSerialization());
        assertThat(d.getMetadata().getAnnotations()).containsKey(DesiredHash.ANNOTATION);
        assertThat(d.getMetadata().getAnnotations().get(DesiredHash.ANNOTATION)).hasSize(64);
        assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getResources().getLimits())
                .containsKey(NodeGpuDiscovery.GPU_RESOURCE);
        assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    }
}
