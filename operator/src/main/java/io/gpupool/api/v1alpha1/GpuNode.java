package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@ShortNames("gn")
@Categories(ApiGroup.CATEGORY)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Class", jsonPath = ".status.gpuClass", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "GPUs", jsonPath = ".spec.gpu.count", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Allocated", jsonPath = ".status.allocated", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Cluster", jsonPath = ".spec.cluster", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Org", jsonPath = ".spec.organization", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Product", jsonPath = ".spec.gpu.product", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@JsonClassDescription("One GPU node contributed to the pool. It lives in the hub namespace of the cluster it belongs "
        + "to (gpupool-cluster-<cluster>), written by that cluster's agent (or, for the pool's own cluster, by the "
        + "operator).")
public class GpuNode extends CustomResource<GpuNodeSpec, GpuNodeStatus> implements Namespaced {

    @Override
    protected GpuNodeSpec initSpec() {
        return new GpuNodeSpec();
    }

}
