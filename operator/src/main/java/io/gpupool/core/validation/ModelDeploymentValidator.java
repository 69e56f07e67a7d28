package io.gpupool.core.validation;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import io.gpupool.api.v1alpha1.AutoscalingSpec;
import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.api.v1alpha1.ModelSpec;

/**
 * Checks what the CRD schema cannot (or what a server without schema validation let through). Each problem is one
 * sentence that names the field and says what to do; an empty list means the spec is valid.
 */
public final class ModelDeploymentValidator {

    public static final Set<String> ENGINES = Set.of("vllm", "llamacpp");
    public static final Set<String> DTYPES = Set.of("bf16", "fp16", "fp8", "int8", "int4");
    /** Longest name that leaves room for the suffixes of the Deployments and pods derived from it. */
    public static final int MAX_NAME_LENGTH = 52;
    private static final Pattern DNS_1035_LABEL = Pattern.compile("^[a-z]([-a-z0-9]*[a-z0-9])?$");
    private static final Pattern HF_SOURCE = Pattern.compile("^hf://[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$");
    private static final Pattern SCHEME = Pattern.compile("^([a-zA-Z][a-zA-Z0-9+.-]*)://.*$");
    private static final Pattern DNS_1123_SUBDOMAIN = Pattern.compile(
            "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    private static final Pattern SECRET_KEY = Pattern.compile("^[-._a-zA-Z0-9]+$");

    private ModelDeploymentValidator() {
    }

    /** What the schema checks of spec.autoscaling, and what only CEL (Kubernetes 1.25+) could: min <= max. */
    static void validateAutoscaling(AutoscalingSpec a, List<String> problems) {
        if (a == null) {
            return;
        }
        if (a.maxReplicas == null || a.maxReplicas < 1) {
            problems.add("spec.autoscaling.maxReplicas must be at least 1 (got " + a.maxReplicas + ").");
        }
        if (a.minReplicas != null && a.minReplicas < 0) {
            problems.add("spec.autoscaling.minReplicas must not be negative (got " + a.minReplicas + ").");
        }
        if (a.minReplicas != null && a.maxReplicas != null && a.minReplicas > a.maxReplicas) {
            problems.add("spec.autoscaling.minReplicas (" + a.minReplicas + ") must not be greater than maxReplicas ("
                    + a.maxReplicas + ").");
        }
        if (a.targetInFlightPerReplica != null && a.targetInFlightPerReplica < 1) {
            problems.add("spec.autoscaling.targetInFlightPerReplica must be at least 1 (got "
                    + a.targetInFlightPerReplica + ").");
        }
        if (a.scaleDownDelaySeconds != null && a.scaleDownDelaySeconds < 0) {
            problems.add("spec.autoscaling.scaleDownDelaySeconds must not be negative (got " + a.scaleDownDelaySeconds
                    + ").");
        }
    }

    public static List<String> validate(String name, ModelDeploymentSpec spec) {
        List<String> problems = new ArrayList<>();
        if (name == null || name.length() > MAX_NAME_LENGTH || !DNS_1035_LABEL.matcher(name).matches()) {
            problems.add("metadata.name '" + name + "' must be a DNS label of at most " + MAX_NAME_LENGTH
                    + " characters (lower case letters, digits and '-', starting with a letter): it names the Service "
                    + "that serves the model.");
        }
        if (spec == null) {
            problems.add("spec is required.");
            return problems;
        }
        validateModel(spec, problems);
        String engine = spec.engine == null ? "vllm" : spec.engine;
        if (!ENGINES.contains(engine)) {
            problems.add("spec.engine: unknown engine '" + engine + "'; use vllm or llamacpp.");
        }
        if (spec.replicas != null && spec.replicas < 0) {
            problems.add("spec.replicas must not be negative (got " + spec.replicas + ").");
        }
        validateAutoscaling(spec.autoscaling, problems);
        GpuRequirements gpu = spec.gpu == null ? new GpuRequirements() : spec.gpu;
        if (gpu.count != null && gpu.count < 1) {
            problems.add("spec.gpu.count must be at least 1 (got " + gpu.count + "): every replica needs a GPU.");
        }
        if (gpu.minMemoryMiB != null && gpu.minMemoryMiB < 1) {
            problems.add("spec.gpu.minMemoryMiB must be positive (got " + gpu.minMemoryMiB + ").");
        }
        if (gpu.minMemoryMiB == null && (spec.model == null || spec.model.parametersBillions == null)) {
            problems.add("Set spec.model.parametersBillions so that the operator can estimate the GPU memory a "
                    + "replica needs, or set spec.gpu.minMemoryMiB.");
        }
        if ("llamacpp".equals(engine) && (spec.model == null || spec.model.file == null)) {
            problems.add("spec.model.file is required with engine llamacpp: name the GGUF file to serve.");
        }
        if ("llamacpp".equals(engine) && spec.model != null && spec.model.revision != null
                && !spec.model.revision.equals("main")) {
            // The image lets llama.cpp download the file itself (--hf-repo/--hf-file), and its downloader has no
            // revision option: it reads the main branch.
            problems.add("spec.model.revision '" + spec.model.revision + "': engine llamacpp serves the repository's "
                    + "main branch only (llama.cpp downloads the file itself and takes no revision); use main, or "
                    + "engine vllm for a pinned revision.");
        }
        validateEngineArgs(spec, problems);
        EnvRules.validate(spec.env, problems);
        validateTokenRef(spec, problems);
        return problems;
    }

    private static void validateModel(ModelDeploymentSpec spec, List<String> problems) {
        ModelSpec model = spec.model;
        if (model == null) {
            problems.add("spec.model is required: say which model to serve, e.g. source: hf://Qwen/Qwen2.5-0.5B-Instruct.");
            return;
        }
        if (model.source == null || model.source.isBlank()) {
            problems.add("spec.model.source is required, e.g. hf://Qwen/Qwen2.5-0.5B-Instruct.");
        } else if (!HF_SOURCE.matcher(model.source).matches()) {
            var scheme = SCHEME.matcher(model.source);
            if (scheme.matches() && !scheme.group(1).equals("hf")) {
                problems.add("spec.model.source: scheme '" + scheme.group(1) + "' is not supported yet; use "
                        + "hf://<org>/<name> (a Hugging Face repository).");
            } else {
                problems.add("spec.model.source '" + model.source + "' is not of the form hf://<org>/<name>.");
            }
        }
        if (model.dtype != null && !DTYPES.contains(model.dtype)) {
            problems.add("spec.model.dtype: unknown dtype '" + model.dtype + "'; use bf16, fp16, fp8, int8 or int4.");
        }
        if (model.parametersBillions != null && !(model.parametersBillions > 0)) {
            problems.add("spec.model.parametersBillions must be positive (got " + model.parametersBillions + ").");
        }
        if (model.maxContextLength != null && model.maxContextLength < 1) {
            problems.add("spec.model.maxContextLength must be positive (got " + model.maxContextLength + ").");
        }
    }

    private static void validateEngineArgs(ModelDeploymentSpec spec, List<String> problems) {
        if (spec.engineArgs == null) {
            return;
        }
        for (String arg : spec.engineArgs) {
            if (arg == null) {
                problems.add("spec.engineArgs must not contain null entries.");
            } else {
                EngineArgs.problem(arg, Boolean.TRUE.equals(spec.allowRemoteCode)).ifPresent(problems::add);
            }
        }
    }

    private static void validateTokenRef(ModelDeploymentSpec spec, List<String> problems) {
        var ref = spec.hfTokenSecretRef;
        if (ref == null) {
            return;
        }
        if (ref.name == null || ref.name.isBlank()) {
            problems.add("spec.hfTokenSecretRef.name is required when hfTokenSecretRef is set.");
        } else if (ref.name.length() > 253 || !DNS_1123_SUBDOMAIN.matcher(ref.name).matches()) {
            problems.add("spec.hfTokenSecretRef.name '" + ref.name + "' is not a valid Secret name.");
        }
        if (ref.key != null && (ref.key.isEmpty() || ref.key.length() > 253 || !SECRET_KEY.matcher(ref.key).matches())) {
            problems.add("spec.hfTokenSecretRef.key '" + ref.key + "' is not a valid Secret key (letters, digits, '-', "
                    + "'_' and '.').");
        }
    }
}
