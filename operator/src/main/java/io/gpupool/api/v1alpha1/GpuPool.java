package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Version;

@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@Categories(ApiGroup.CATEGORY)
@AdditionalPrinterColumn(name = "GPUs", jsonPath = ".status.gpus", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Allocated", jsonPath = ".status.allocated", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Mode", jsonPath = ".spec.fairShare.mode", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@JsonClassDescription("Pool-wide policy. The operator reads the object named 'default'; when it is absent, every "
        + "field takes its default.")
public class GpuPool extends CustomResource<GpuPoolSpec, GpuPoolStatus> {

    /** The one GpuPool the operator reads. */
    public static final String DEFAULT_NAME = "default";

    @Override
    protected GpuPoolSpec initSpec() {
        return new GpuPoolSpec();
    }

}
