package io.gpupool.inference;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The Hugging Face repositories the stand-in {@code hf} (src/test/resources/inference/fake-hf.sh) serves, laid out on
 * disk, and what it was asked: one line per call, one line per file it fetched. The real {@code hf} cannot run here
 * (no PyPI); the stand-in keeps its command-line contract: the arguments the entrypoint passes, the standard cache
 * layout, the snapshot path as the last line of output, the exception as the last lines of a failure.
 */
final class FakeHf {
    static final Path SCRIPT = Path.of("src/test/resources/inference/fake-hf.sh");

    final Path repos;
    final Path log;

    FakeHf(Path root) {
        this.repos = root.resolve("hub-repos");
        this.log = root.resolve("hf.log");
    }

    /** One call of {@code hf}: whether HF_TOKEN was set, and its arguments joined by spaces. */
    record Call(boolean token, String args) {
    }

    final class Repo {
        final Path dir;

        Repo(String id, String sha) {
            dir = repos.resolve(id);
            write("sha", sha.getBytes(StandardCharsets.UTF_8));
        }

        Repo file(String name, String content) {
            return file(name, content.getBytes(StandardCharsets.UTF_8));
        }

        Repo file(String name, byte[] content) {
            write("files/" + name, content);
            return this;
        }

        Repo flag(String name) {
            write(name, new byte[0]);
            return this;
        }

        byte[] content(String name) {
            try {
                return Files.readAllBytes(dir.resolve("files").resolve(name));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void write(String name, byte[] content) {
            try {
                Path p = dir.resolve(name);
                Files.createDirectories(p.getParent());
                Files.write(p, content);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    Repo repo(String id, String sha) {
        return new Repo(id, sha);
    }

    Repo repo(String id) {
        return new Repo(id, Entrypoint.read(repos.resolve(id).resolve("sha")));
    }

    List<Call> calls() {
        List<Call> calls = new ArrayList<>();
        for (String line : Entrypoint.read(log).lines().toList()) {
            int space = line.indexOf(' ');
            calls.add(new Call(line.substring(0, space).equals("token=set"), line.substring(space + 1)));
        }
        return calls;
    }

    /** The files it fetched from a repository (not those already in the cache), in order. */
    List<String> fetched(String repo) {
        return Entrypoint.read(Path.of(log + ".files")).lines().filter(l -> l.startsWith(repo + " "))
                .map(l -> l.substring(repo.length() + 1)).toList();
    }

    void clearLog() {
        try {
            Files.deleteIfExists(log);
            Files.deleteIfExists(Path.of(log + ".files"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] randomBytes(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** The fixture repositories the tests use (see {@link Fixtures}). */
    static FakeHf withFixtures(Path root) {
        FakeHf hf = new FakeHf(root);
        String index = """
                {"metadata": {"total_size": 360448},
                 "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                                "model.layers.0.mlp.up_proj.weight": "model-00001-of-00002.safetensors",
                                "lm_head.weight": "model-00002-of-00002.safetensors"}}
                """;
        hf.repo(Fixtures.TINY_LLM, Fixtures.TINY_LLM_SHA)
                .file(".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n")
                .file("README.md", "# tiny\n")
                .file("config.json", "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"torch_dtype\": \"bfloat16\",\n"
                        + "  \"auto_map\": {\"AutoConfig\": \"configuration_tiny.TinyConfig\"}\n}\n")
                .file("generation_config.json", "{\"do_sample\": true}\n")
                .file("tokenizer.json", "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}\n")
                .file("tokenizer_config.json", "{\"chat_template\": \"{{ messages }}\"}\n")
                .file("configuration_tiny.py", "raise SystemExit('remote code ran')\n")
                .file("modeling_tiny.py", "raise SystemExit('remote code ran')\n")
                .file("model.safetensors.index.json", index)
                .file("model-00001-of-00002.safetensors", randomBytes(1, 196_608))
                .file("model-00002-of-00002.safetensors", randomBytes(2, 163_840))
                .file("consolidated.safetensors", randomBytes(3, 65_536))
                .file("pytorch_model.bin", randomBytes(4, 4_096))
                .file("training_args.bin", randomBytes(5, 512))
                .file("original/params.json", "{}")
                .file("original/model.safetensors", randomBytes(6, 2_048))
                .file("onnx/model.onnx", randomBytes(7, 1_024));
        hf.repo(Fixtures.PICKLE_ONLY, "1111111111111111111111111111111111111111")
                .file("config.json", "{\"architectures\": [\"GPT2LMHeadModel\"]}")
                .file("tokenizer.json", "{}")
                .file("pytorch_model.bin", randomBytes(8, 8_192))
                .file("training_args.bin", randomBytes(9, 256))
                .file("optimizer.pt", randomBytes(10, 256));
        hf.repo(Fixtures.TINY_AWQ, "3333333333333333333333333333333333333333")
                .file("config.json", "{\"architectures\": [\"LlamaForCausalLM\"], \"quantization_config\": "
                        + "{\"bits\": 4, \"group_size\": 128, \"quant_method\": \"awq\", \"version\": \"gemm\"}}")
                .file("tokenizer.json", "{}")
                .file("model.safetensors", randomBytes(14, 32_768));
        hf.repo(Fixtures.TINY_W8A8, "4444444444444444444444444444444444444444")
                .file("config.json", "{\"quantization_config\": {\"format\": \"int-quantized\", "
                        + "\"quant_method\": \"compressed-tensors\"}}")
                .file("model.safetensors", randomBytes(15, 32_768));
        hf.repo(Fixtures.TINY_FP8, "5555555555555555555555555555555555555555")
                .file("config.json", "{\"quantization_config\": {\"activation_scheme\": \"dynamic\", "
                        + "\"quant_method\": \"fp8\"}}")
                .file("model.safetensors", randomBytes(16, 32_768));
        hf.repo(Fixtures.GATED, "6666666666666666666666666666666666666666")
                .file("config.json", "{}")
                .file("model.safetensors", randomBytes(17, 1_024)).flag("gated");
        hf.repo(Fixtures.HOSTILE, "7777777777777777777777777777777777777777")
                .file("config.json", "{}")
                .file("model.safetensors.index.json", "{\"weight_map\": {\"a\": \"../../../escape.safetensors\"}}")
                .file("model.safetensors", randomBytes(18, 4_096));
        hf.repo(Fixtures.GGUF_ONLY, "8888888888888888888888888888888888888888")
                .file("config.json", "{}")
                .file("model-Q4_K_M.gguf", randomBytes(19, 1_024));
        hf.repo(Fixtures.SLOW, "9999999999999999999999999999999999999999")
                .file("config.json", "{}").flag("hang");
        return hf;
    }
}
