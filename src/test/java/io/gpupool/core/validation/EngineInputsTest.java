package io.gpupool.core.validation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.gpupool.testing.PoolFixtures;

/** What a tenant may hand the engine: arguments and environment that run no undeclared code and leak nothing. */
class EngineInputsTest {

    private static List<String> problems(List<String> args, List<EnvVar> env, boolean allowRemoteCode) {
        var md = PoolFixtures.modelDeployment("ns", "m", 1, 1);
        md.getSpec().engineArgs = args;
        md.getSpec().env = env;
        md.getSpec().allowRemoteCode = allowRemoteCode;
        return ModelDeploymentValidator.validate("m", md.getSpec());
    }

    @Test
    void remoteCodeIsRefusedInEverySpellingTheEnginesAccept() {
        for (String arg : List.of("--trust-remote-code", "--trust_remote_code", "--TRUST-REMOTE-CODE",
                "--trust-remote-code=true", "--trust_remote_code=True", "--trust-rem", "--trust")) {
            assertThat(problems(List.of(arg), List.of(), false)).as(arg).singleElement()
                    .satisfies(p -> assertThat(p).contains("allowRemoteCode is false"));
            assertThat(problems(List.of(arg), List.of(), true)).as(arg).isEmpty();
        }
        // A value is no flag, and a flag that merely starts alike is another flag.
        assertThat(problems(List.of("--tokenizer-mode", "trust-remote-code", "--enable-prefix-caching"), List.of(),
                false)).isEmpty();
    }

    @Test
    void flagsThatLoadCodeByNameCarryCredentialsOrReachOutAreRefused() {
        for (String arg : List.of("--worker-cls=evil.Worker", "--worker_extension_cls", "--middleware",
                "--logits-processors", "--tool-parser-plugin=/models/hf/x.py", "--reasoning_parser_plugin",
                "--api-key=sk-123", "--api_key", "--hf-token=hf_x", "--path=/", "--rpc", "--allowed-local-media-path=/",
                "--load_format=pt", "--Load-Format", "--download_dir=/tmp", "--served_model_name=x")) {
            assertThat(problems(List.of(arg), List.of(), true)).as(arg).hasSize(1);
        }
        assertThat(problems(List.of("--api-key"), List.of(), false)).singleElement()
                .satisfies(p -> assertThat(p).contains("credentials").contains("gateway"));
    }

    @Test
    void environmentThatLoadsCodeIsRefused() {
        for (String name : List.of("LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME",
                "PYTHONBREAKPOINT", "PYTHONWARNINGS", "BASH_ENV", "HOME", "VLLM_PLUGINS", "NODE_OPTIONS")) {
            assertThat(problems(List.of(), List.of(new EnvVar(name, "x", null)), true)).as(name).singleElement()
                    .satisfies(p -> assertThat(p).contains("load code"));
        }
        assertThat(problems(List.of(), List.of(new EnvVar("PYTHONUNBUFFERED", "1", null),
                new EnvVar("VLLM_LOGGING_LEVEL", "DEBUG", null), new EnvVar("NCCL_DEBUG", "INFO", null)), false))
                .isEmpty();
    }

    @Test
    void environmentTheApiServerWouldRefuseIsCaughtBeforeAnythingIsBooked() {
        assertThat(problems(List.of(), List.of(new EnvVarBuilder().withName("A").withNewValueFrom().endValueFrom()
                .build()), false)).singleElement().satisfies(p -> assertThat(p).contains("exactly one source"));
        assertThat(problems(List.of(), List.of(new EnvVarBuilder().withName("A").withNewValueFrom()
                .withNewFieldRef().withFieldPath("metadata.name").endFieldRef()
                .withNewResourceFieldRef().withResource("limits.cpu").endResourceFieldRef().endValueFrom().build()),
                false)).hasSize(1);
        assertThat(problems(List.of(), List.of(new EnvVarBuilder().withName("A").withNewValueFrom()
                .withNewFieldRef().withFieldPath("spec.containers").endFieldRef().endValueFrom().build()), false))
                .singleElement().satisfies(p -> assertThat(p).contains("fieldPath"));
        assertThat(problems(List.of(), List.of(new EnvVarBuilder().withName("A").withNewValueFrom()
                .withNewResourceFieldRef().withResource("limits.nvidia.com/gpu").endResourceFieldRef().endValueFrom()
                .build()), false)).hasSize(1);
        // Secrets and ConfigMaps of the namespace do not exist where replicas may run.
        assertThat(problems(List.of(), List.of(new EnvVarBuilder().withName("A").withNewValueFrom()
                .withNewSecretKeyRef("k", "other-teams-secret", false).endValueFrom().build()), false))
                .singleElement().satisfies(p -> assertThat(p).contains("reads a Secret"));
        assertThat(problems(List.of(), List.of(new EnvVarBuilder().withName("POD").withNewValueFrom()
                .withNewFieldRef().withFieldPath("metadata.labels['app']").endFieldRef().endValueFrom().build(),
                new EnvVarBuilder().withName("MEM").withNewValueFrom().withNewResourceFieldRef()
                        .withResource("limits.memory").endResourceFieldRef().endValueFrom().build()), false)).isEmpty();
    }
}
