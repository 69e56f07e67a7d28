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
@ShortNames("cc")
@Categories(ApiGroup.CATEGORY)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Org", jsonPath = ".spec.organization", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Namespace", jsonPath = ".status.namespace", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Kubeconfig", jsonPath = ".status.kubeconfigSecret", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@JsonClassDescription("A pool admin's approval of a contributed cluster; its name is the cluster's name. The operator "
        + "then creates the cluster's hub namespace gpupool-cluster-<name>, a ServiceAccount whose Role reaches only "
        + "that namespace, and a kubeconfig Secret to hand to the contributor for the gpupool-contributor chart. "
        + "Deleting it revokes the cluster: its namespace, credentials, GpuNodes and work go with it.")
public class ContributedCluster extends CustomResource<ContributedClusterSpec, ContributedClusterStatus> {

    @Override
    protected ContributedClusterSpec initSpec() {
        return new ContributedClusterSpec();
    }
}
