package io.gpupool.inference;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs inference-image/entrypoint.sh with {@code sh} in a clean environment, with stand-in engines ({@code vllm},
 * {@code llama-server}) on PATH that record their argv, environment and PID, and (with STUB_HANG) wait for SIGTERM, and
 * the stand-in {@code hf} ({@link FakeHf}) over fixture repositories.
 */
final class Entrypoint {
    static final Path IMAGE_DIR = Path.of(System.getProperty("user.dir")).resolve("inference-image");
    static final Path SCRIPT = IMAGE_DIR.resolve("entrypoint.sh");

    /** Records argv and a few environment facts with shell builtins only (process start-up is slow on CI). */
    private static final String STUB = """
            #!/bin/sh
            out=${STUB_OUT:?}
            printf '%s\\000' "$0" "$@" > "$out.argv"
            printf '%s\\000' "pid=$$" "HF_TOKEN=${HF_TOKEN+set}" "HF_HUB_OFFLINE=${HF_HUB_OFFLINE-}" \\
                "HF_HUB_CACHE=${HF_HUB_CACHE-}" "LLAMA_CACHE=${LLAMA_CACHE-}" > "$out.facts"
            if [ -n "${STUB_HANG-}" ]; then
                trap 'echo TERM > "$out.term"; exit 0' TERM
                echo ready > "$out.ready"
                while :; do sleep 1 & wait $!; done
            fi
            exit 0
            """;

    final Path root;
    final Path bin;
    final Path cache;
    final FakeHf hf;
    private final AtomicInteger runs = new AtomicInteger();

    Entrypoint(Path root) {
        this.root = root;
        this.bin = root.resolve("bin");
        this.cache = root.resolve("models");
        this.hf = FakeHf.withFixtures(root);
        try {
            Files.createDirectories(bin);
            Files.createDirectories(cache);
            Files.createDirectories(root.resolve("tmp"));
            Files.createDirectories(root.resolve("home"));
            Files.createDirectories(root.resolve("runs"));
            executable(bin.resolve("vllm"), STUB);
            executable(bin.resolve("llama-server"), STUB);
            executable(bin.resolve("hf"), Files.readString(FakeHf.SCRIPT));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void executable(Path path, String content) throws IOException {
        Files.createDirectories(path.getParent());
        Files.writeString(path, content);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** A started entrypoint. */
    final class Started {
        final Process process;
        final Path out;
        final Path stdout;
        final Path stderr;

        Started(Process process, Path out, Path stdout, Path stderr) {
            this.process = process;
            this.out = out;
            this.stdout = stdout;
            this.stderr = stderr;
        }

        Result await() {
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError("entrypoint did not finish in 60 s; stdout:\n" + read(stdout));
                }
                return result();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        Result result() {
            Path argvFile = Path.of(out + ".argv");
            List<String> argv = null;
            Map<String, String> env = null;
            long enginePid = -1;
            if (Files.exists(argvFile)) {
                argv = split(read(argvFile));
                env = new LinkedHashMap<>();
                for (String kv : split(read(Path.of(out + ".facts")))) {
                    int eq = kv.indexOf('=');
                    env.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
                enginePid = Long.parseLong(env.remove("pid"));
            }
            return new Result(process.isAlive() ? -1 : process.exitValue(), read(stdout), read(stderr), argv, env,
                    enginePid, process.pid(), out);
        }

        boolean waitForFile(String suffix, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            Path file = Path.of(out + suffix);
            while (System.nanoTime() < deadline) {
                if (Files.exists(file)) {
                    return true;
                }
                if (!process.isAlive()) {
                    return Files.exists(file);
                }
                Thread.sleep(20);
            }
            return false;
        }
    }

    /** engineEnv: HF_TOKEN is "set" or "", HF_HUB_OFFLINE, HF_HUB_CACHE and LLAMA_CACHE their values, as the engine saw them. */
    record Result(int exit, String stdout, String stderr, List<String> argv, Map<String, String> engineEnv,
            long enginePid, long pid, Path out) {

        boolean engineStarted() {
            return argv != null;
        }

        /** argv without argv[0] (the stand-in engine's path). */
        List<String> args() {
            return argv == null ? null : argv.subList(1, argv.size());
        }

        String engineName() {
            return argv == null ? null : Path.of(argv.get(0)).getFileName().toString();
        }

        List<String> stderrLines() {
            return stderr.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr + "--- argv " + argv;
        }
    }

    Started start(Map<String, String> contract, List<String> args) {
        return start(contract, args, Map.of());
    }

    Started start(Map<String, String> contract, List<String> args, Map<String, String> extraEnv) {
        int n = runs.incrementAndGet();
        Path runDir = root.resolve("runs");
        Path out = runDir.resolve("run-" + n);
        Path stdout = runDir.resolve("run-" + n + ".stdout");
        Path stderr = runDir.resolve("run-" + n + ".stderr");
        List<String> command = new ArrayList<>(List.of("sh", SCRIPT.toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", bin + ":/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", root.resolve("home").toString());
        env.put("TMPDIR", root.resolve("tmp").toString());
        env.put("STUB_OUT", out.toString());
        env.put("FAKE_HF_REPOS", hf.repos.toString());
        env.put("FAKE_HF_LOG", hf.log.toString());
        Map<String, String> merged = new LinkedHashMap<>(contract);
        merged.putAll(extraEnv);
        merged.forEach((k, v) -> {
            if (v != null) {
                env.put(k, v);
            }
        });
        pb.redirectOutput(stdout.toFile());
        pb.redirectError(stderr.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        try {
            return new Started(pb.start(), out, stdout, stderr);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Result run(Map<String, String> contract, String... args) {
        return start(contract, List.of(args)).await();
    }

    Result run(Map<String, String> contract, List<String> args, Map<String, String> extraEnv) {
        return start(contract, args, extraEnv).await();
    }

    static String read(Path path) {
        try {
            return Files.exists(path) ? Files.readString(path, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> split(String nulSeparated) {
        List<String> parts = new ArrayList<>(Arrays.asList(nulSeparated.split("\0", -1)));
        if (!parts.isEmpty() && parts.get(parts.size() - 1).isEmpty()) {
            parts.remove(parts.size() - 1);
        }
        return parts;
    }
}
