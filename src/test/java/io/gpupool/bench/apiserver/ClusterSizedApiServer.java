package io.gpupool.bench.apiserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import io.gpupool.cluster.ControlPlane;
import io.gpupool.cluster.SimulatedKubelet;
import io.gpupool.playground.PlaygroundApiServer;

/**
 * The playground's real kube-apiserver with a cluster-sized Service IP range. kube-api-test always passes
 * {@code --service-cluster-ip-range 10.0.0.0/24} after any flag of ours (the last one wins), so the 254th Service is
 * refused ("failed to allocate a serviceIP: range is full") and every ModelDeployment after it fails its reconcile.
 * Every ModelDeployment has a ClusterIP Service, so the benchmarks give kube-api-test a binary directory of their own
 * whose kube-apiserver is a two-line wrapper that swaps that range for 10.96.0.0/16 and execs the provisioned binary;
 * etcd and kubectl are links to the provisioned ones. A /16 (65,534 Services) rather than kubeadm's /12: before 1.27
 * the API server keeps the allocated IPs as one bitmap in one etcd key that every Service create rewrites, 128 KiB for
 * a /12 against 8 KiB for a /16, and with a /12 Service creates took over 10 s under a burst on this machine.
 */
final class ClusterSizedApiServer {

    static final String KUBE_API_TEST_RANGE = "10.0.0.0/24";
    static final String CLUSTER_RANGE = "10.96.0.0/16";

    private ClusterSizedApiServer() {
    }

    static PlaygroundApiServer start(Path workDir, Path testDir) throws IOException {
        Path real = PlaygroundApiServer.realBinaryDir();
        Path bin = Files.createDirectories(testDir.resolve("k8s").resolve(real.getFileName()));
        for (String b : new String[] { "etcd", "kubectl" }) {
            Path link = bin.resolve(b);
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, real.resolve(b).toAbsolutePath());
        }
        Path wrapper = bin.resolve("kube-apiserver");
        Files.writeString(wrapper, """
                #!/bin/sh
                # Written by io.gpupool.bench.apiserver.ClusterSizedApiServer: kube-api-test's Service range holds 254.
                for a in "$@"; do shift; [ "$a" = "%s" ] && a="%s"; set -- "$@" "$a"; done
                exec "%s" "$@"
                """.formatted(KUBE_API_TEST_RANGE, CLUSTER_RANGE, real.resolve("kube-apiserver").toAbsolutePath()));
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        ControlPlane.Options options = (FULL_CONTROL_PLANE ? ControlPlane.Options.full(workDir.resolve("control-plane"))
                : ControlPlane.Options.apiServerOnly(workDir.resolve("control-plane")))
                .withApiServer(b -> b.withTestDir(testDir.toAbsolutePath().toString()));
        PlaygroundApiServer server = PlaygroundApiServer.startReal(workDir, options);
        if (FULL_CONTROL_PLANE) {
            server.runKubelets(SimulatedKubelet.Settings.defaults());
        }
        return server;
    }

    /**
     * BENCH_CONTROL_PLANE=full adds the harness's kube-controller-manager, kube-scheduler and simulated kubelet (every
     * admitted replica then becomes a pod that is bound and run). Off by default: they cost CPU the benchmarks measure
     * the operator and the API server with, and the figures so far were taken without them.
     */
    static final boolean FULL_CONTROL_PLANE = "full".equalsIgnoreCase(System.getenv("BENCH_CONTROL_PLANE"));
}
