package io.gpupool.core.validation;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which engine arguments a ModelDeployment may pass (spec.engineArgs). The replicas run on GPUs other organizations
 * contributed, so an argument that runs code, loads a class or a file by name, or carries a credential is refused.
 *
 * <p>A flag is compared as the engines parse it: vLLM's parser takes {@code --trust_remote_code} for
 * {@code --trust-remote-code} and accepts unambiguous prefixes ({@code --trust-rem}), and both engines accept
 * {@code --flag=value}. So a flag is normalized (lower case, {@code _} → {@code -}, value cut at {@code =}) and refused
 * when it equals a refused flag or is a prefix of one. inference-image/entrypoint.sh applies the same rules to what it
 * receives (a second line of defence, for objects the operator did not validate).
 */
public final class EngineArgs {

    /** Flags the operator renders itself from the spec: setting them would break placement or the contract. */
    static final List<String> RENDERED = List.of("--port", "--host", "--tensor-parallel-size", "-tp",
            "--served-model-name", "--download-dir", "--model", "-m", "--load-format", "--max-model-len", "--ctx-size",
            "-c", "--alias", "-a");
    /** Let the model's own Python code run: allowed only with spec.allowRemoteCode (and the GPUs' owners' consent). */
    static final List<String> REMOTE_CODE = List.of("--trust-remote-code");
    /** Import a class or module, or load a Python file, named by the argument: code execution whatever the model. */
    static final List<String> LOADS_CODE = List.of("--worker-cls", "--worker-extension-cls", "--middleware",
            "--logits-processors", "--logits-processor-pattern", "--tool-parser-plugin", "--reasoning-parser-plugin",
            "--model-loader-extra-config");
    /** Credentials do not belong in a spec every namespace reader sees (the gateway's API keys guard the pool). */
    static final List<String> CREDENTIALS = List.of("--api-key", "--api-key-file", "--ssl-keyfile", "--hf-token");
    /** Reach outside the replica: serve the container's files, offload to remote machines. */
    static final List<String> REACHES_OUT = List.of("--path", "--rpc", "--allowed-local-media-path", "--slot-save-path");

    private EngineArgs() {
    }

    /** The flag as the engines read it: lower case, '_' as '-', without its {@code =value}; null for a value. */
    static String flag(String arg) {
        if (!arg.startsWith("-")) {
            return null;
        }
        String flag = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
        return flag.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Whether {@code flag} names {@code refused}, in full or as a prefix the parser would expand to it. */
    static boolean names(String flag, String refused) {
        if (!flag.startsWith("--")) {
            return flag.equals(refused); // short flags are never abbreviated
        }
        return refused.startsWith("--") && flag.length() > 2 && refused.startsWith(flag);
    }

    /** Whether an argument asks the engine to run the model's own code, in any spelling the engines accept. */
    public static boolean enablesRemoteCode(String arg) {
        String flag = arg == null ? null : flag(arg);
        return flag != null && REMOTE_CODE.stream().anyMatch(f -> names(flag, f));
    }

    /**
     * Why an argument is refused, as a sentence for the condition; empty when it may be passed.
     *
     * @param allowRemoteCode spec.allowRemoteCode
     */
    public static Optional<String> problem(String arg, boolean allowRemoteCode) {
        String flag = flag(arg);
        if (flag == null) {
            return Optional.empty();
        }
        for (String f : REMOTE_CODE) {
            if (names(flag, f)) {
                return allowRemoteCode ? Optional.empty() : Optional.of("spec.engineArgs asks for " + f + " ('" + arg
                        + "') but spec.allowRemoteCode is false: set allowRemoteCode: true to let the model's own code "
                        + "run (only nodes whose owners consent take it).");
            }
        }
        for (String f : RENDERED) {
            if (names(flag, f)) {
                return Optional.of("spec.engineArgs must not set " + f + " ('" + arg + "'): the operator renders it "
                        + "from the spec.");
            }
        }
        for (String f : LOADS_CODE) {
            if (names(flag, f)) {
                return Optional.of("spec.engineArgs must not set " + f + " ('" + arg + "'): it loads code by name, "
                        + "on GPUs other organizations contributed.");
            }
        }
        for (String f : CREDENTIALS) {
            if (names(flag, f)) {
                return Optional.of("spec.engineArgs must not carry credentials (" + f + "): every reader of the "
                        + "namespace sees the spec. Callers authenticate at the pool's gateway with API keys; a Hugging "
                        + "Face token goes in a Secret named by spec.hfTokenSecretRef.");
            }
        }
        for (String f : REACHES_OUT) {
            if (names(flag, f)) {
                return Optional.of("spec.engineArgs must not set " + f + " ('" + arg + "'): it reaches files or "
                        + "machines outside the replica.");
            }
        }
        return Optional.empty();
    }
}
