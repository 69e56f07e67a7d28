package io.gpupool.playground;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Properties;
import java.util.stream.Stream;

import io.quarkus.bootstrap.app.AugmentResult;
import io.quarkus.bootstrap.app.CuratedApplication;
import io.quarkus.bootstrap.app.QuarkusBootstrap;

/**
 * The packaged gpupool application (Quarkus fast-jar): the one artifact the playground runs twice, as the operator and
 * as a contributor's agent (GPUPOOL_ROLE=agent), each in its own JVM, as production does.
 *
 * <p>hack/playground.sh builds it with Maven before the playground starts. A test that runs the playground has no
 * package phase before it ({@code mvn test}), so it builds the same artifact with Quarkus' own bootstrap (what the
 * quarkus-maven-plugin's build goal calls) from target/classes, unless the jar is newer than every class.
 */
public final class PackagedApplication {

    /** The build hack/playground.sh makes for the embedded API server: server-side apply off (build-time setting). */
    static final String EMBEDDED_DIR = "playground-app";
    /** The production build (`mvn package`), for the real kube-apiserver. */
    static final String PRODUCTION_DIR = "quarkus-app";

    private PackagedApplication() {
    }

    static Path jar(boolean serverSideApply) {
        return Path.of("target", serverSideApply ? PRODUCTION_DIR : EMBEDDED_DIR, "quarkus-run.jar");
    }

    /** The jar, which must exist (hack/playground.sh builds it). */
    static Path require(boolean serverSideApply) {
        Path jar = jar(serverSideApply);
        if (!Files.exists(jar)) {
            throw new IllegalStateException("gpupool is not packaged (" + jar + " is missing): run hack/playground.sh, "
                    + "which builds it, or `mvn -B package -DskipTests`.");
        }
        return jar;
    }

    /**
     * The embedded-server build (server-side apply off), built from target/classes when it is missing or older than a
     * class or resource there.
     */
    static Path buildEmbeddedIfStale() {
        return buildIfStale(false);
    }

    /**
     * The production build (what `mvn package` makes and the chart's image runs: server-side apply on), built from
     * target/classes when it is missing or older than a class or resource there.
     */
    public static Path buildProductionIfStale() {
        return buildIfStale(true);
    }

    private static synchronized Path buildIfStale(boolean serverSideApply) {
        Path jar = jar(serverSideApply);
        Path classes = Path.of("target", "classes");
        if (Files.exists(jar) && !newerThan(classes, lastModified(jar))) {
            return jar;
        }
        Properties build = new Properties();
        if (!serverSideApply) {
            build.setProperty("quarkus.operator-sdk.enable-ssa", "false");
        }
        build.setProperty("quarkus.package.output-directory", serverSideApply ? PRODUCTION_DIR : EMBEDDED_DIR);
        long t0 = System.nanoTime();
        try (CuratedApplication app = QuarkusBootstrap.builder()
                .setApplicationRoot(classes.toAbsolutePath())
                .setMode(QuarkusBootstrap.Mode.PROD)
                .setLocalProjectDiscovery(true)
                .setIsolateDeployment(true)
                .setProjectRoot(Path.of("").toAbsolutePath())
                .setTargetDirectory(Path.of("target").toAbsolutePath())
                .setBuildSystemProperties(build)
                .build().bootstrap()) {
            AugmentResult result = app.createAugmentor().createProductionApplication();
            System.out.printf("[playground] packaged gpupool into %s in %d s%n", result.getJar().getPath(),
                    (System.nanoTime() - t0) / 1_000_000_000L);
            return result.getJar().getPath();
        } catch (Exception e) {
            throw new IllegalStateException("Packaging gpupool for the playground failed", e);
        }
    }

    private static FileTime lastModified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean newerThan(Path dir, FileTime time) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).anyMatch(f -> lastModified(f).compareTo(time) > 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
