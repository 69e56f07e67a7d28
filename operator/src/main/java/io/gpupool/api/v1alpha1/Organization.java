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
@ShortNames("org")
@Categories(ApiGroup.CATEGORY)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Share", jsonPath = ".status.weightedShare", type = AdditionalPrinterColumn.Type.INTEGER,
        getDescription = "Weighted share of borrowed GPUs x 1000 (as Kueue reports it): 0 while within nominal quota; "
                + "the lowest is served first.")
@AdditionalPrinterColumn(name = "Weight", jsonPath = ".spec.quota.weight", type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Contributed GPU-h", jsonPath = ".status.ledger.contributedGpuHours", type = AdditionalPrinterColumn.Type.NUMBER,
        getDescription = "GPU-hours contributed (verified GPUs × time), weighted by GpuClass value, since the ledger started.")
@AdditionalPrinterColumn(name = "Used GPU-h", jsonPath = ".status.ledger.usedGpuHours", type = AdditionalPrinterColumn.Type.NUMBER,
        getDescription = "GPU-hours its replicas held, weighted by GpuClass value, since the ledger started.")
@AdditionalPrinterColumn(name = "Balance GPU-h", jsonPath = ".status.ledger.balanceGpuHours", type = AdditionalPrinterColumn.Type.NUMBER,
        getDescription = "Contributed minus used GPU-hours: positive for an organization that gave more than it took.")
@AdditionalPrinterColumn(name = "Namespaces", jsonPath = ".status.namespaces", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Display Name", jsonPath = ".spec.displayName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@JsonClassDescription("A member of the pool: a community, university or lab. The namespaces in spec.namespaces "
        + "belong to it; its quota says how many GPUs of each class it is guaranteed "
        + "and how much it may borrow or lend.")
public class Organization extends CustomResource<OrganizationSpec, OrganizationStatus> {

    @Override
    protected OrganizationSpec initSpec() {
        return new OrganizationSpec();
    }

}
