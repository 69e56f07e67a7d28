package io.gpupool.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;

/**
 * Where the control plane's binaries are: the directory io.fabric8:kube-api-test reads
 * ({@code $KUBE_API_TEST_DIR/k8s/<version>-linux-amd64}, default {@code ~/.kubeapitest}), which
 * hack/provision-kube-apiserver.sh fills with kube-apiserver, etcd and kubectl (kube-api-test's) and
 * kube-controller-manager and kube-scheduler (the harness's).
 */
public final class ControlPlaneBinaries {

    /** The version hack/provision-kube-apiserver.sh builds; KUBE_API_TEST_API_SERVER_VERSION overrides it. */
    public static final String DEFAULT_VERSION = "1.20.2";
    public static final String KUBE_APISERVER = "kube-apiserver";
    public static final String KUBE_CONTROLLER_MANAGER = "kube-controller-manager";
    public static final String KUBE_SCHEDULER = "kube-scheduler";
    public static final String KUBECTL = "kubectl";
    /** What kube-api-test needs. */
    static final List<String> API_SERVER = List.of(KUBE_APISERVER, "etcd", KUBECTL);
    /** Everything the harness runs. */
    public static final List<String> ALL = List.of(KUBE_APISERVER, "etcd", KUBECTL, KUBE_CONTROLLER_MANAGER,
            KUBE_SCHEDULER);

    private ControlPlaneBinaries() {
    }

    /** A setting as a system property, else an environment variable, else the fallback. */
    public static String setting(String name, String fallback) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            value = System.getenv(name);
        }
        return value == null || value.isBlank() ? fallback : value;
    }

    /**
     * The version the harness runs: KUBE_API_TEST_API_SERVER_VERSION when set; else 1.20.2 when it is complete (what
     * the Debian path provisions); else the newest complete version directory (what the internet path downloads);
     * else 1.20.2.
     */
    public static String version() {
        String set = setting(KubeAPIServerConfigBuilder.KUBE_API_TEST_API_SERVER_VERSION, null);
        if (set != null) {
            return set;
        }
        if (complete(DEFAULT_VERSION)) {
            return DEFAULT_VERSION;
        }
        try (var dirs = Files.list(testDir().resolve("k8s"))) {
            return dirs.map(d -> d.getFileName().toString()).filter(n -> n.endsWith("-linux-amd64"))
                    .map(n -> n.substring(0, n.length() - "-linux-amd64".length())).filter(ControlPlaneBinaries::complete)
                    .max(ControlPlaneBinaries::compareVersions).orElse(DEFAULT_VERSION);
        } catch (java.io.IOException e) {
            return DEFAULT_VERSION;
        }
    }

    /** The minor version (20 for 1.20.2): flags differ between releases. */
    public static int minor() {
        String[] parts = version().split("\\.");
        try {
            return parts.length > 1 ? Integer.parseInt(parts[1]) : 20;
        } catch (NumberFormatException e) {
            return 20;
        }
    }

    private static boolean complete(String version) {
        return ALL.stream().allMatch(b -> Files.isExecutable(dir(version).resolve(b)));
    }

    private static int compareVersions(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c;
            try {
                c = Integer.compare(Integer.parseInt(x[i]), Integer.parseInt(y[i]));
            } catch (NumberFormatException e) {
                c = x[i].compareTo(y[i]);
            }
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }

    /** kube-api-test's directory (certificates, binaries). */
    public static Path testDir() {
        return Path.of(setting(KubeAPIServerConfigBuilder.KUBE_API_TEST_DIR,
                Path.of(System.getProperty("user.home"), ".kubeapitest").toString()));
    }

    /** Where the binaries of a version are. */
    public static Path dir(String version) {
        return testDir().resolve("k8s").resolve(version + "-linux-amd64");
    }

    public static Path dir() {
        return dir(version());
    }

    public static Path binary(String name) {
        return dir().resolve(name);
    }

    /** Which of the given binaries are missing (not a file, or not executable). */
    public static List<String> missing(List<String> names) {
        List<String> missing = new ArrayList<>();
        for (String b : names) {
            Path p = dir().resolve(b);
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
                missing.add(b);
            }
        }
        return missing;
    }

    public static boolean allPresent() {
        return missing(ALL).isEmpty();
    }

    /** Fails with what to do when any of the given binaries is missing. */
    public static void require(List<String> names, String who) {
        List<String> missing = missing(names);
        if (!missing.isEmpty()) {
            throw new IllegalStateException(who + " needs " + String.join(", ", names) + " " + version() + " in "
                    + dir() + ", but " + String.join(", ", missing) + " " + (missing.size() == 1 ? "is" : "are")
                    + " missing. `mvn test` provisions them before the tests (see hack/README-apiserver.md); by hand: "
                    + "`sudo bash hack/provision-kube-apiserver.sh` (offline from Debian's mirror, cached afterwards).");
        }
    }
}
