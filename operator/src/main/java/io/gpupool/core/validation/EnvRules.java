package io.gpupool.core.validation;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;

/**
 * Which environment variables a ModelDeployment may give its engine (spec.env), so that the rendered container is one
 * the API server accepts (a variable it would refuse fails every apply while the replicas' GPUs stay booked) and one
 * that runs no code the spec did not declare: the replicas run on GPUs other organizations contributed.
 */
public final class EnvRules {

    /** What Kubernetes accepts as an environment variable name. */
    private static final Pattern ENV_NAME = Pattern.compile("^[-._a-zA-Z][-._a-zA-Z0-9]*$");
    /** Variables that make the dynamic loader, Python or a shell load code from a path or a name. */
    private static final Set<String> LOADS_CODE = Set.of("BASH_ENV", "ENV", "GCONV_PATH", "PERL5OPT", "PERL5LIB",
            "RUBYOPT", "NODE_OPTIONS", "HOME", "VLLM_PLUGINS", "VLLM_ALLOW_INSECURE_SERIALIZATION",
            "HF_HUB_TRUST_REMOTE_CODE", "TRANSFORMERS_TRUST_REMOTE_CODE");
    /** Python variables that only tune the interpreter; every other PYTHON* variable can load code. */
    private static final Set<String> HARMLESS_PYTHON = Set.of("PYTHONUNBUFFERED", "PYTHONHASHSEED",
            "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE", "PYTHONFAULTHANDLER");
    /** fieldRef paths the API server accepts in a container's environment. */
    private static final Pattern FIELD_PATH = Pattern.compile("^(metadata\\.(name|namespace|uid)"
            + "|metadata\\.(labels|annotations)\\['[^']+'\\]|spec\\.(nodeName|serviceAccountName)"
            + "|status\\.(hostIP|hostIPs|podIP|podIPs))$");
    private static final Set<String> RESOURCE_FIELDS = Set.of("limits.cpu", "limits.memory", "limits.ephemeral-storage",
            "requests.cpu", "requests.memory", "requests.ephemeral-storage");

    private EnvRules() {
    }

    /** Whether a variable makes the dynamic loader, Python or a shell load code from a path or a name. */
    public static boolean loadsCode(String name) {
        return name != null && (name.startsWith("LD_") || LOADS_CODE.contains(name)
                || (name.startsWith("PYTHON") && !HARMLESS_PYTHON.contains(name)));
    }

    static void validate(List<EnvVar> env, List<String> problems) {
        if (env == null) {
            return;
        }
        for (EnvVar e : env) {
            problem(e).ifPresent(problems::add);
        }
    }

    static Optional<String> problem(EnvVar e) {
        if (e == null || e.getName() == null || e.getName().isBlank()) {
            return Optional.of("spec.env entries need a name.");
        }
        String name = e.getName();
        if (name.startsWith("GPUPOOL_") || name.equals("HF_TOKEN")) {
            return Optional.of("spec.env must not set " + name + ": the operator sets it from the spec "
                    + (name.equals("HF_TOKEN") ? "(use hfTokenSecretRef)." : "."));
        }
        if (!ENV_NAME.matcher(name).matches()) {
            // Kubernetes refuses such a container: without this check the Deployment apply fails on every retry.
            return Optional.of("spec.env name '" + name + "' is not a valid environment variable name (letters, "
                    + "digits, '_', '-' and '.', not starting with a digit).");
        }
        if (loadsCode(name)) {
            return Optional.of("spec.env must not set " + name + ": it makes the engine's process load code from a "
                    + "path or a name, on GPUs other organizations contributed.");
        }
        EnvVarSource from = e.getValueFrom();
        if (from == null) {
            return Optional.empty();
        }
        if (e.getValue() != null && !e.getValue().isEmpty()) {
            return Optional.of("spec.env " + name + " sets both value and valueFrom; set one.");
        }
        if (from.getSecretKeyRef() != null || from.getConfigMapKeyRef() != null) {
            return Optional.of("spec.env " + name + " reads a " + (from.getSecretKeyRef() != null ? "Secret" : "ConfigMap")
                    + ": replicas may run on other organizations' clusters, where nothing of this namespace exists. "
                    + "A Hugging Face token goes in spec.hfTokenSecretRef; other settings as plain values.");
        }
        int sources = (from.getFieldRef() == null ? 0 : 1) + (from.getResourceFieldRef() == null ? 0 : 1);
        if (sources != 1) {
            // The API server's own rule ("may not have more than one field specified at a time", or none).
            return Optional.of("spec.env " + name + ".valueFrom must name exactly one source: fieldRef or "
                    + "resourceFieldRef.");
        }
        if (from.getFieldRef() != null) {
            String path = from.getFieldRef().getFieldPath();
            if (path == null || !FIELD_PATH.matcher(path).matches()) {
                return Optional.of("spec.env " + name + ".valueFrom.fieldRef.fieldPath '" + path + "' is not one the "
                        + "API server supports (e.g. metadata.name, metadata.namespace, spec.nodeName, status.podIP).");
            }
        } else {
            var ref = from.getResourceFieldRef();
            if (ref.getResource() == null || !RESOURCE_FIELDS.contains(ref.getResource())) {
                return Optional.of("spec.env " + name + ".valueFrom.resourceFieldRef.resource '" + ref.getResource()
                        + "' is not one of " + new java.util.TreeSet<>(RESOURCE_FIELDS) + ".");
            }
            if (ref.getContainerName() != null && !ref.getContainerName().isEmpty()
                    && !"server".equals(ref.getContainerName())) {
                return Optional.of("spec.env " + name + ".valueFrom.resourceFieldRef.containerName must be empty or "
                        + "'server' (the serving container's name).");
            }
        }
        return Optional.empty();
    }
}
