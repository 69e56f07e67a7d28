package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@ShortNames("gc")
@Categories(ApiGroup.CATEGORY)
@AdditionalPrinterColumn(name = "Nodes", jsonPath = ".status.nodes", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "GPUs", jsonPath = ".status.gpus", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Allocated", jsonPath = ".status.allocated", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Value", jsonPath = ".spec.value", type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@JsonClassDescription("A kind of GPU that quotas are counted in, such as 'h100-80g' or 'rtx-24g'. A GpuNode belongs to "
        + "the first class (by name) whose match it satisfies.")
public class GpuClass extends CustomResource<GpuClassSpec, GpuClassStatus> {

    @Override
    protected GpuClassSpec initSpec() {
        return new GpuClassSpec();
    }

}
