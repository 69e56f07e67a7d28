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
@ShortNames("sw")
@Categories(ApiGroup.CATEGORY)
@AdditionalPrinterColumn(name = "Applied", jsonPath = ".status.conditions[?(@.type==\"Applied\")].reason", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.readyReplicas", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Replicas", jsonPath = ".spec.replicas", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Model", jsonPath = ".spec.modelDeployment.name", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@JsonClassDescription("Serving work for one contributed cluster: the replicas of one ModelDeployment that the pool "
        + "placed on that cluster's nodes, as the Deployments and Service the pool rendered. It lives in the "
        + "cluster's hub namespace; the operator writes its spec, the cluster's agent pulls it, runs it in its "
        + "serving namespace (or refuses it under its policy) and writes its status.")
public class ServingWork extends CustomResource<ServingWorkSpec, ServingWorkStatus> implements Namespaced {

    @Override
    protected ServingWorkSpec initSpec() {
        return new ServingWorkSpec();
    }
}
