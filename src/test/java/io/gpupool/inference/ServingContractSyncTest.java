package io.gpupool.inference;

import io.gpupool.core.render.ServingContract;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ServingContract} is the single definition of the environment between the operator and the image: the
 * entrypoint reads exactly its variables (and no GPUPOOL_* variable of its own), and the README's contract table has one
 * row per constant with the right "required" column.
 */
class ServingContractSyncTest {

    static final Pattern NAME = Pattern.compile("GPUPOOL_[A-Z_]+");

    static Set<String> contract() {
        return Arrays.stream(ServingContract.values()).map(Enum::name).collect(Collectors.toCollection(TreeSet::new));
    }

    static Set<String> names(String text, Pattern pattern) {
        Set<String> names = new TreeSet<>();
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            names.add(m.group(m.groupCount() > 0 ? 1 : 0));
        }
        return names;
    }

    @Test
    void theEntrypointReadsExactlyTheContract() throws IOException {
        String script = Files.readString(Entrypoint.SCRIPT);
        Set<String> mentioned = names(script, NAME);
        assertThat(mentioned).isEqualTo(contract());

        // And each is actually read as a parameter expansion, not only named in a comment or a message.
        Set<String> expanded = names(script, Pattern.compile("\\$\\{(GPUPOOL_[A-Z_]+)[-:+}]"));
        assertThat(expanded).isEqualTo(mentioned);
    }

    @Test
    void theEntrypointStaysAThinLayerOverTheEnginesLoaders() throws IOException {
        // The contract check, the safety rules, the arguments: downloading, caching and locking are the engines'.
        // Issue #17: at most ~300 lines, comments included.
        assertThat(Files.readAllLines(Entrypoint.SCRIPT)).as("lines of entrypoint.sh").hasSizeLessThanOrEqualTo(300);
        assertThat(Files.readString(Entrypoint.SCRIPT)).contains("hf download").contains("--hf-repo")
                .doesNotContain("curl", "flock", "sha256sum");
    }

    @Test
    void theDrainHookReadsOnlyContractVariables() throws IOException {
        assertThat(names(Files.readString(Entrypoint.IMAGE_DIR.resolve("drain.sh")), NAME))
                .isNotEmpty().isSubsetOf(contract());
    }

    @Test
    void theReadmeTableListsEveryContractVariable() throws IOException {
        String readme = Files.readString(Entrypoint.IMAGE_DIR.resolve("README.md"));
        Pattern row = Pattern.compile("(?m)^\\|\\s*`(GPUPOOL_[A-Z_]+)`\\s*\\|\\s*(yes|no)\\s*\\|");
        Map<String, Boolean> rows = new LinkedHashMap<>();
        Matcher m = row.matcher(readme);
        while (m.find()) {
            assertThat(rows.put(m.group(1), m.group(2).equals("yes"))).as("one row for " + m.group(1)).isNull();
        }
        assertThat(rows.keySet()).containsExactlyInAnyOrderElementsOf(contract());
        for (ServingContract c : ServingContract.values()) {
            assertThat(rows.get(c.name())).as(c.name() + " required").isEqualTo(c.required());
        }
    }

    @Test
    void theScriptsAreValidPosixShell() throws Exception {
        for (String script : new String[] {"entrypoint.sh", "drain.sh"}) {
            for (String shell : new String[] {"dash", "sh"}) {
                Process p = new ProcessBuilder(shell, "-n", Entrypoint.IMAGE_DIR.resolve(script).toString())
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                assertThat(p.waitFor()).as(shell + " -n " + script + ": " + out).isZero();
            }
            assertThat(Files.isExecutable(Entrypoint.IMAGE_DIR.resolve(script))).as(script + " is executable").isTrue();
            String text = Files.readString(Entrypoint.IMAGE_DIR.resolve(script));
            assertThat(text).startsWith("#!/bin/sh\n").doesNotContain("$'", "<<<", "pipefail", "${!", "&>");
            for (String bashism : new String[] {"(^|[\\s;])\\[\\[\\s", "(?m)^\\s*function\\s", "(?m)^\\s*local\\s",
                    "(?m)^\\s*declare\\s", "\\$\\{[A-Za-z_]+//"}) {
                assertThat(text).as(script + " has no bashism " + bashism).doesNotContainPattern(bashism);
            }
        }
    }
}
