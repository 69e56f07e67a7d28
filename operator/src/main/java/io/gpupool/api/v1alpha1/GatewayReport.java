package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Version;

@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@Categories(ApiGroup.CATEGORY)
@AdditionalPrinterColumn(name = "Holder", jsonPath = ".spec.holder", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Renewed", jsonPath = ".spec.renewTime", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@JsonClassDescription("What one slot of the pool's gateway has counted, written only by the gateway replica that "
        + "holds its lease, in the gateway's namespace. Counts are cumulative and never reset: a replica that takes "
        + "over a slot (after its holder stopped) continues from what the slot holds, so the operator's totals (the "
        + "sum over all slots, in Organization and ApiKey status) neither lose what was written nor count it twice. "
        + "Not for people to edit.")
public class GatewayReport extends CustomResource<GatewayReportSpec, Void> implements Namespaced {

    @Override
    protected GatewayReportSpec initSpec() {
        return new GatewayReportSpec();
    }
}
