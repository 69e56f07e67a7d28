package io.gpupool.inference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Static checks of the two Dockerfiles: pinned bases, non-root numeric user, the shared entrypoint. */
class DockerfilesTest {

    static final Pattern FROM = Pattern.compile(
            "^FROM\\s+(?:--platform=\\S+\\s+)?(?<image>[a-z0-9.\\-/]+):(?<tag>[A-Za-z0-9_][A-Za-z0-9_.\\-]*)"
                    + "@sha256:(?<digest>[0-9a-f]{64})(?:\\s+AS\\s+\\S+)?$");

    /** Instructions with line continuations joined and comments dropped. */
    static List<String> instructions(Path dockerfile) throws IOException {
        List<String> result = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(dockerfile)) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.length() == 0)) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            current.append(trimmed);
            result.add(current.toString().strip());
            current.setLength(0);
        }
        return result;
    }

    static List<String> all(List<String> instructions, String keyword) {
        return instructions.stream().filter(i -> i.regionMatches(true, 0, keyword + " ", 0, keyword.length() + 1))
                .toList();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "vllm/Dockerfile, vllm/vllm-openai, v, ' hf vllm; do'",
            "llamacpp/Dockerfile, ghcr.io/ggml-org/llama.cpp, server-cuda, 'test -x /app/llama-server;'"})
    void dockerfileIsPinnedNonRootAndRunsTheEntrypoint(String file, String baseImage, String tagPrefix,
            String loaderCheck) throws IOException {
        Path dockerfile = Entrypoint.IMAGE_DIR.resolve(file);
        String text = Files.readString(dockerfile);
        List<String> ins = instructions(dockerfile);

        List<String> froms = all(ins, "FROM");
        assertThat(froms).isNotEmpty();
        for (String from : froms) {
            Matcher m = FROM.matcher(from);
            assertThat(m.matches()).as("pinned by tag and digest: " + from).isTrue();
            assertThat(m.group("image")).isEqualTo(baseImage);
            assertThat(m.group("tag")).startsWith(tagPrefix).isNotEqualTo("latest");
        }
        assertThat(text).as("says how to refresh the digest").contains("docker buildx imagetools inspect");

        List<String> users = all(ins, "USER");
        assertThat(users).isNotEmpty();
        String user = users.get(users.size() - 1).substring(5).strip();
        assertThat(user).as("the last USER is numeric and not root").matches("[0-9]+(:[0-9]+)?");
        assertThat(Integer.parseInt(user.split(":")[0])).isEqualTo(1000);

        List<String> entrypoints = all(ins, "ENTRYPOINT");
        assertThat(entrypoints).hasSize(1);
        Matcher exec = Pattern.compile("^ENTRYPOINT\\s+\\[\\s*\"([^\"]+)\"\\s*]$").matcher(entrypoints.get(0));
        assertThat(exec.matches()).as("exec form with the entrypoint alone: " + entrypoints.get(0)).isTrue();
        String entrypointPath = exec.group(1);

        List<String> copies = all(ins, "COPY").stream()
                .filter(c -> c.matches(".*\\sentrypoint\\.sh\\s+" + Pattern.quote(entrypointPath) + "$")).toList();
        assertThat(copies).as("entrypoint.sh is copied to " + entrypointPath).hasSize(1);
        assertThat(copies.get(0)).as("and made executable").matches("COPY\\s+--chmod=0?[57]55\\s+.*");
        assertThat(Files.isRegularFile(Entrypoint.SCRIPT)).isTrue();

        assertThat(all(ins, "CMD")).as("the container's args are extra engine arguments only")
                .containsExactly("CMD []");
        assertThat(all(ins, "ADD")).as("no remote ADD").isEmpty();
        assertThat(text).as("HOME and the cache mount exist for uid 1000").contains("chown 1000:1000 /home/gpupool /models");
        // The build fails when the base loses the engine's own loader, or sets what the entrypoint refuses.
        assertThat(String.join("\n", all(ins, "RUN"))).contains(loaderCheck).contains("test -z \"").contains("${LD_PRELOAD-}${LD_AUDIT-}\";");
        assertThat(all(ins, "ENV")).noneMatch(e -> e.matches("(?s).*\\b(PYTHONPATH|LD_PRELOAD|LD_AUDIT|PYTHONSTARTUP)=.*"));
    }
}
