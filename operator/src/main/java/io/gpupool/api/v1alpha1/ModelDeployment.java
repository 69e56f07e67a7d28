package io.gpupool.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

import com.fasterxml.jackson.annotation.JsonClassDescription;

@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@ShortNames("md")
@Categories(ApiGroup.CATEGORY)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.replicas.ready", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Admitted", jsonPath = ".status.replicas.admitted", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Desired", jsonPath = ".spec.replicas", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Org", jsonPath = ".status.organization", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Model", jsonPath = ".spec.model.source", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Endpoint", jsonPath = ".status.endpoint", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@JsonClassDescription("An open model served on the pool's GPUs with an OpenAI-compatible API. The operator admits its "
        + "replicas under the fair-share quota of the organization that owns the namespace, places them on GPU nodes "
        + "and creates the serving pods and a Service.")
public class ModelDeployment extends CustomResource<ModelDeploymentSpec, ModelDeploymentStatus> implements Namespaced {

    // No initSpec(): a new ModelDeployment() has no spec, on purpose. JOSDK adds its finalizer with a server-side
    // apply of a fresh instance holding only name, namespace and finalizer; a spec made by initSpec() would ride along
    // with its Java defaults (replicas 1, gpu.classes []), and since that apply is forced, the operator would take
    // those fields from the user and overwrite them (found by the real-API-server tier: replicas 2 became 1).
}
