package io.gpupool.core.render;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.testing.PoolFixtures;

/** A serving pod's scratch space, memory and ephemeral storage are bounded, and follow the model. */
class ServingResourcesTest {

    @Test
    void everyScratchVolumeIsBoundedAndTheContainerLimited() {
        var md = PoolFixtures.modelDeployment("uni-nlp", "llama-70b", 1, 4);
        md.getSpec().model.parametersBillions = 70.0;
        md.getSpec().model.dtype = "bf16";
        var pod = ServingRenderer.deployment(md, new Placement("local", "n1", "h100", 1), ServingSettings.DEFAULT)
                .getSpec().getTemplate().getSpec();
        assertThat(pod.getVolumes()).allSatisfy(v -> {
            assertThat(v.getEmptyDir()).as(v.getName()).isNotNull();
            assertThat(v.getEmptyDir().getSizeLimit()).as(v.getName()).isNotNull();
        });
        // 70 B parameters in bf16 are 140 GB (131 GiB) of weights: the model cache holds them with room to spare.
        var models = pod.getVolumes().stream().filter(v -> v.getName().equals("models")).findFirst().orElseThrow();
        assertThat(Quantity.getAmountInBytes(models.getEmptyDir().getSizeLimit()).longValue())
                .isGreaterThan(140_000_000_000L).isLessThan(170_000_000_000L);
        var shm = pod.getVolumes().stream().filter(v -> v.getName().equals("dshm")).findFirst().orElseThrow();
        assertThat(shm.getEmptyDir().getMedium()).isEqualTo("Memory");
        assertThat(shm.getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("4Gi"));

        var resources = pod.getContainers().get(0).getResources();
        assertThat(resources.getLimits()).containsKeys("memory", "ephemeral-storage", "nvidia.com/gpu");
        assertThat(resources.getRequests()).containsKeys("memory", "ephemeral-storage", "nvidia.com/gpu", "cpu");
        // /dev/shm is memory the container is charged for: the limit leaves room for it above the request.
        ServingResources r = ServingResources.of(md.getSpec());
        assertThat(r.memoryLimitGiB()).isEqualTo(r.memoryRequestGiB() + r.shmGiB());
        assertThat(r.memoryRequestGiB()).isGreaterThanOrEqualTo(131 + 4);
        assertThat(r.ephemeralRequestGiB()).isEqualTo(r.modelsGiB() + r.tmpGiB() + r.homeGiB());
        assertThat(r.ephemeralLimitGiB()).isGreaterThan(r.ephemeralRequestGiB());
    }

    @Test
    void aSmallModelKeepsTheFloorsAndAModelKnownOnlyByItsGpuMemoryIsBoundedByIt() {
        var small = PoolFixtures.modelDeployment("lab", "qwen", 1, 1);
        small.getSpec().model.parametersBillions = 0.5;
        ServingResources r = ServingResources.of(small.getSpec());
        assertThat(r.memoryRequestGiB()).isEqualTo(8);
        assertThat(r.shmGiB()).isEqualTo(1);
        assertThat(r.modelsGiB()).isEqualTo(4); // 1 GB of weights, 10 % slack, 2 GiB for the rest

        var byMemory = PoolFixtures.modelDeployment("lab", "custom", 1, 2);
        byMemory.getSpec().model.parametersBillions = null;
        byMemory.getSpec().gpu.minMemoryMiB = 40960L;
        assertThat(ServingResources.of(byMemory.getSpec()).modelsGiB()).isEqualTo((long) Math.ceil(80 * 1.1) + 2);
    }
}
