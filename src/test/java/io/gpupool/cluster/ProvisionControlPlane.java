package io.gpupool.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import io.fabric8.kubeapitest.binary.BinaryDownloader;
import io.fabric8.kubeapitest.binary.OSInfo;

/**
 * Run by Maven before the tests (exec-maven-plugin in process-test-classes, see pom.xml): makes sure the control
 * plane the apiserver and e2e tiers run on is there, so that `mvn -B test` passes on a fresh machine by itself.
 * <ol>
 * <li>All binaries present (the usual case): one line, nothing else.</li>
 * <li>The internet reachable: kube-api-test's own download (its newest envtest release: kube-apiserver, etcd,
 * kubectl), plus kube-controller-manager and kube-scheduler of the same version from the Kubernetes release
 * server.</li>
 * <li>Otherwise, as root on Debian: hack/provision-kube-apiserver.sh, which builds 1.20.2 from Debian's sources
 * (cached; ~6-10 min cold on 2 cores).</li>
 * <li>Neither: the build fails with one sentence that says why.</li>
 * </ol>
 */
public final class ProvisionControlPlane {

    private static final String ME = "[provision-control-plane] ";
    private static final String RELEASES = "https://dl.k8s.io/release/";

    private ProvisionControlPlane() {
    }

    public static void main(String[] args) throws Exception {
        Path project = Path.of(args.length > 0 ? args[0] : System.getProperty("user.dir"));
        if (ControlPlaneBinaries.allPresent()) {
            System.out.println(ME + "cached: " + String.join(", ", ControlPlaneBinaries.ALL) + " "
                    + ControlPlaneBinaries.version() + " in " + ControlPlaneBinaries.dir());
            return;
        }
        System.out.println(ME + "missing in " + ControlPlaneBinaries.dir() + ": "
                + String.join(", ", ControlPlaneBinaries.missing(ControlPlaneBinaries.ALL)));
        List<String> why = new ArrayList<>();
        if (reachable("https://raw.githubusercontent.com/") && reachable(RELEASES)) {
            try {
                download();
                return;
            } catch (Exception e) {
                why.add("kube-api-test's download failed (" + e.getMessage() + ")");
            }
        } else {
            why.add("the internet is not reachable for kube-api-test's download");
        }
        String debian = debianUnavailable();
        if (debian == null) {
            int exit = new ProcessBuilder("bash", project.resolve("hack/provision-kube-apiserver.sh").toString())
                    .directory(project.toFile()).inheritIO().start().waitFor();
            if (exit == 0 && ControlPlaneBinaries.allPresent()) {
                return;
            }
            why.add("hack/provision-kube-apiserver.sh failed (exit " + exit + ", its output is above)");
        } else {
            why.add("Debian's sources cannot be used here (" + debian + ")");
        }
        throw new IllegalStateException("The real control plane for the apiserver and e2e tests could not be "
                + "provisioned: " + String.join(", and ", why) + " (see hack/README-apiserver.md).");
    }

    /** kube-api-test's newest envtest binaries, and the two controllers of the same version beside them. */
    private static void download() throws IOException, InterruptedException {
        BinaryDownloader downloader = new BinaryDownloader(ControlPlaneBinaries.testDir().toString(), new OSInfo());
        Path dir = downloader.downloadLatest().toPath();
        String version = dir.getFileName().toString().replace("-linux-amd64", "");
        for (String b : List.of(ControlPlaneBinaries.KUBE_CONTROLLER_MANAGER, ControlPlaneBinaries.KUBE_SCHEDULER)) {
            Path target = dir.resolve(b);
            if (Files.isExecutable(target)) {
                continue;
            }
            Path part = dir.resolve(b + ".part");
            try (InputStream in = URI.create(RELEASES + "v" + version + "/bin/linux/amd64/" + b).toURL().openStream()) {
                Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
            }
            part.toFile().setExecutable(true);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
        }
        System.out.println(ME + "downloaded Kubernetes " + version + " into " + dir + "; the tests use the newest "
                + "complete version there (KUBE_API_TEST_API_SERVER_VERSION picks another)");
    }

    private static boolean reachable(String url) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
            c.setConnectTimeout(4000);
            c.setReadTimeout(4000);
            c.setRequestMethod("HEAD");
            c.getResponseCode();
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Why the Debian path cannot work here, or null when it can. */
    private static String debianUnavailable() throws IOException, InterruptedException {
        if (!"Linux".equals(System.getProperty("os.name")) || !"amd64".equals(System.getProperty("os.arch"))) {
            return "not linux-amd64";
        }
        Process id = new ProcessBuilder("id", "-u").start();
        String uid = new String(id.getInputStream().readAllBytes()).trim();
        id.waitFor();
        if (!"0".equals(uid)) {
            return "not root: run `sudo bash hack/provision-kube-apiserver.sh` once";
        }
        if (!Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            return "no apt-get";
        }
        if (!Files.isReadable(Path.of("/etc/apt/sources.list.d/debian.sources"))) {
            return "no /etc/apt/sources.list.d/debian.sources";
        }
        return null;
    }
}
