package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.apiserver.InstalledChart;
import io.gpupool.apiserver.RealKubeApiServer;
import io.gpupool.apiserver.TestPool;
import io.gpupool.playground.OperatorProcess;
import io.gpupool.playground.PackagedApplication;
import io.gpupool.testing.PoolFixtures;

/**
 * Two operator replicas as the operator chart deploys them (its replica count and its container's environment: the
 * prod profile, which turns leader election on), each the packaged application in its own JVM, identified by its pod
 * name; the leader is killed (SIGKILL: no lease released) in the middle of a burst of applies. The standby takes over
 * within the lease time; in the end no ModelDeployment is lost or admitted twice and no GPU is double-booked.
 */
@EndToEnd
class FailoverE2ETest {

    private static final String RELEASE = "gpupool-operator";
    private static final String NAMESPACE = "gpupool-system";
    /** quarkus-operator-sdk's lease, named in io.gpupool.operator.LeaderElection. */
    private static final String LEASE = "gpupool-operator-leader";
    private static final String NS = "e2e-failover";
    private static final String ORG = "e2e-failover";
    private static final int BURST = 16;
    /** dgx-h100-01 (8) + a100-80g-01 (4): 12 one-GPU replicas fit, 4 wait. */
    private static final int GPUS = 12;
    private static final Duration WAIT = Duration.ofSeconds(120);

    private static KubernetesClient client;
    private static RealKubeApiServer.Server server;
    private static TestPool pool;
    private static PodLedger ledger;
    private static final Map<String, OperatorProcess> replicas = new java.util.concurrent.ConcurrentHashMap<>();
    private static volatile String killedPod;
    private static ScheduledExecutorService closing;

    @BeforeAll
    static void pool(RealKubeApiServer.Server s) {
        server = s;
        server.applyCrds();
        client = server.admin();
        ledger = new PodLedger(client);
        pool = new TestPool(client).member(NS, ORG).gpuClass("e2e-any", 20000, "NVIDIA-H100-*", "NVIDIA-A100-*");
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            // The ModelDeployments go while a replica still runs (it removes the finalizers of those that have one).
            pool.deleteModelDeployments(replicas.values().stream().anyMatch(OperatorProcess::isAlive));
        } finally {
            if (closing != null) {
                closing.shutdownNow();
                closing.awaitTermination(10, TimeUnit.SECONDS);
            }
            for (OperatorProcess p : replicas.values()) {
                p.close();
            }
            client.leases().inNamespace(NAMESPACE).withName(LEASE).delete();
            pool.close();
            ledger.close();
        }
    }

    @Test
    void theStandbyTakesOverWhenTheLeaderIsKilledMidBurst() throws Exception {
        // The chart as installed: how many replicas, and with what environment.
        List<HasMetadata> chart = InstalledChart.render(client, "gpupool-operator", RELEASE, NAMESPACE, Map.of());
        Deployment deployment = chart.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
                .findFirst().orElseThrow();
        int count = deployment.getSpec().getReplicas();
        assertThat(count).as("the chart's operator replicas").isEqualTo(2);
        Map<String, String> env = new HashMap<>();
        for (EnvVar e : deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()) {
            env.put(e.getName(), e.getValue());
        }
        assertThat(env).containsEntry("QUARKUS_PROFILE", "prod");
        client.namespaces().resource(PoolFixtures.namespace(NAMESPACE)).createOr(r -> r.update());

        Path jar = PackagedApplication.buildProductionIfStale();
        Path logs = Path.of("target", "e2e-failover");
        Map<String, Map<String, String>> pods = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            String pod = RELEASE + "-" + i;
            Map<String, String> podEnv = new HashMap<>(env);
            // What the pod gets from Kubernetes: its name as hostname (the lease identity), its namespace (where the
            // lease is taken: the ServiceAccount's namespace file in a pod).
            podEnv.put("HOSTNAME", pod);
            podEnv.put("KUBERNETES_NAMESPACE", NAMESPACE);
            pods.put(pod, podEnv);
        }
        // The Deployment's restartPolicy: a replica that exits (its informers timed out at start-up on a busy machine,
        // or it lost the lease) is started again, as the kubelet restarts its container; the one the test kills
        // stays dead (its node is gone).
        ScheduledExecutorService kubelet = Executors.newSingleThreadScheduledExecutor();
        int[] restarts = new int[1];
        kubelet.scheduleWithFixedDelay(() -> pods.forEach((pod, podEnv) -> {
            OperatorProcess p = replicas.get(pod);
            if ((p == null || !p.isAlive()) && !pod.equals(killedPod)) {
                try {
                    if (p != null) {
                        restarts[0]++;
                    }
                    replicas.put(pod, OperatorProcess.start(server.controlPlane().kubeconfig(),
                            server.adminConfig().getMasterUrl(), jar, logs.resolve(pod + "-" + restarts[0] + ".log"),
                            List.of("-Xmx256m"), podEnv));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }), 0, 1, TimeUnit.SECONDS);
        closing = kubelet;
        String leader = awaitLeader(null);
        pool.contribute("dgx-h100-01", ORG).contribute("a100-80g-01", ORG);

        // The burst: one-GPU ModelDeployments, applied one after the other; the leader dies in the middle.
        CompletableFuture<Void> burst = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < BURST; i++) {
                ModelDeployment md = PoolFixtures.modelDeployment(NS, "burst-" + i, 1, 1);
                md.getSpec().gpu.classes = List.of("e2e-any");
                md.getSpec().model.maxContextLength = 4096;
                client.resource(md).fieldManager("kubectl").serverSideApply();
                sleep(150);
            }
        });
        await().atMost(WAIT).until(() -> admitted() >= 3);
        long killed = System.nanoTime();
        killedPod = leader;
        replicas.get(leader).kill();
        String successor = awaitLeader(leader);
        Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
        burst.get();
        assertThat(successor).isNotEqualTo(leader);

        // Everything the burst applied is there and decided once: 12 admitted (one pod each, bound where chosen), 4
        // waiting, no GPU booked twice.
        await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(() -> decided() == BURST && admitted() == GPUS);
        Duration settled = Duration.ofNanos(System.nanoTime() - killed);
        List<ModelDeployment> all = client.resources(ModelDeployment.class).inNamespace(NS).list().getItems();
        assertThat(all).hasSize(BURST);
        assertThat(all).allSatisfy(md -> assertThat(md.getStatus().replicas.admitted).isBetween(0, 1));
        await().atMost(WAIT).until(() -> all.stream().allMatch(md -> ledger.differenceFromPlacements(
                client.resource(md).get()).isEmpty()));
        assertThat(ledger.violations()).as("over %d pod events", ledger.observations()).isEmpty();
        for (String node : List.of("dgx-h100-01", "a100-80g-01")) {
            GpuNode n = pool.gpuNode(node);
            assertThat(n.getStatus().allocated).isLessThanOrEqualTo(n.getStatus().allocatable);
        }
        Lease lease = client.leases().inNamespace(NAMESPACE).withName(LEASE).get();
        System.out.printf("[e2e] failover: leader %s killed; %s took over after %d ms (lease %d s); all %d "
                + "ModelDeployments decided %d ms after the kill; replicas restarted by the simulated kubelet: %d%n",
                leader, successor, takeover.toMillis(), lease.getSpec().getLeaseDurationSeconds(), BURST,
                settled.toMillis(), restarts[0]);
        // Within the lease time (plus the standby's retry period and this machine's load).
        assertThat(takeover).isLessThan(Duration.ofSeconds(lease.getSpec().getLeaseDurationSeconds() + 20));
    }

    /** Waits until the lease names a holder other than {@code not}, whose process is alive; returns it. */
    private static String awaitLeader(String not) {
        String[] holder = new String[1];
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            Lease lease = client.leases().inNamespace(NAMESPACE).withName(LEASE).get();
            holder[0] = lease == null ? null : lease.getSpec().getHolderIdentity();
            return holder[0] != null && !holder[0].equals(not) && replicas.containsKey(holder[0])
                    && replicas.get(holder[0]).isAlive();
        });
        return holder[0];
    }

    private static int admitted() {
        return client.resources(ModelDeployment.class).inNamespace(NS).list().getItems().stream()
                .filter(m -> m.getStatus() != null && m.getStatus().replicas != null)
                .mapToInt(m -> m.getStatus().replicas.admitted).sum();
    }

    /** ModelDeployments with a decision (admitted, or waiting with a reason) for their current generation. */
    private static int decided() {
        return (int) client.resources(ModelDeployment.class).inNamespace(NS).list().getItems().stream()
                .filter(m -> m.getStatus() != null && m.getStatus().replicas != null
                        && m.getMetadata().getGeneration().equals(m.getStatus().observedGeneration))
                .count();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
