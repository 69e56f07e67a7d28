package io.gpupool.api.crd;

import java.util.Map;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMapKeySelector;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.FileKeySelector;
import io.fabric8.kubernetes.api.model.ObjectFieldSelector;
import io.fabric8.kubernetes.api.model.ResourceFieldSelector;
import io.fabric8.kubernetes.api.model.SecretKeySelector;

/**
 * Descriptions of the fields of Kubernetes types embedded in gpupool's CRDs, after the Kubernetes API reference (what
 * {@code kubectl explain pod.spec.containers.env} says). Fabric8's model classes carry no description, so the CRD
 * generator leaves these fields bare; {@link ReadableCrds} fills them from here.
 */
final class KubernetesFieldDescriptions {

    private static final Map<Class<?>, Map<String, String>> BY_TYPE = Map.of(
            Condition.class, Map.of(
                    "type", "Type of the condition, in CamelCase (e.g. Ready).",
                    "status", "Status of the condition: True, False or Unknown.",
                    "reason", "Why the condition last changed, as a CamelCase identifier programs can match on.",
                    "message", "A sentence for people about the last change, with what to do about it when "
                            + "something waits or failed.",
                    "lastTransitionTime", "When the condition last changed from one status to another.",
                    "observedGeneration", "The metadata.generation the condition was set for: if it is older than "
                            + "the object's, the condition is out of date."),
            EnvVar.class, Map.of(
                    "name", "Name of the environment variable.",
                    "value", "Value of the variable. $(VAR_NAME) references to variables defined before it are "
                            + "expanded; $$(VAR_NAME) escapes one. Defaults to \"\".",
                    "valueFrom", "Where the value comes from (a key of a Secret or ConfigMap, a field of the pod, a "
                            + "resource of the container). Not with value."),
            EnvVarSource.class, Map.of(
                    "configMapKeyRef", "A key of a ConfigMap in the pod's namespace.",
                    "secretKeyRef", "A key of a Secret in the pod's namespace.",
                    "fieldRef", "A field of the pod: metadata.name, metadata.namespace, metadata.labels['<KEY>'], "
                            + "metadata.annotations['<KEY>'], spec.nodeName, spec.serviceAccountName, status.hostIP, "
                            + "status.podIP, status.podIPs.",
                    "resourceFieldRef", "A resource of the container: limits.cpu, limits.memory, "
                            + "limits.ephemeral-storage, requests.cpu, requests.memory, requests.ephemeral-storage.",
                    "fileKeyRef", "A key of an env file in a volume of the pod."),
            ConfigMapKeySelector.class, Map.of(
                    "name", "Name of the ConfigMap.",
                    "key", "The key to select.",
                    "optional", "Whether the ConfigMap or its key may be missing."),
            SecretKeySelector.class, Map.of(
                    "name", "Name of the Secret.",
                    "key", "The key of the Secret to select; must be a valid secret key.",
                    "optional", "Whether the Secret or its key may be missing."),
            ObjectFieldSelector.class, Map.of(
                    "apiVersion", "Version of the schema fieldPath is written in; v1 by default.",
                    "fieldPath", "Path of the field to select, in that version."),
            ResourceFieldSelector.class, Map.of(
                    "containerName", "Container whose resource is selected: required for volumes, optional for "
                            + "environment variables.",
                    "resource", "The resource to select.",
                    "divisor", "Unit the value is expressed in; 1 by default."),
            FileKeySelector.class, Map.of(
                    "volumeName", "Name of the volume mount holding the env file.",
                    "path", "Path of the env file inside the volume.",
                    "key", "The key within the env file; an invalid key keeps the pod from starting.",
                    "optional", "Whether the file or its key may be missing."));

    private KubernetesFieldDescriptions() {
    }

    /** The description of a field of a Kubernetes type, or null when it is not one of the types above. */
    static String of(Class<?> type, String field) {
        Map<String, String> fields = BY_TYPE.get(type);
        return fields == null ? null : fields.get(field);
    }
}
