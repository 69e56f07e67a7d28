package io.gpupool.playground;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.cluster.PodNetwork;
import io.gpupool.cluster.SimulatedKubelet;
import io.gpupool.testing.PoolFixtures;

/**
 * A contributor's own Kubernetes cluster, simulated: its own API server (always the embedded one: Fabric8's mock in
 * CRUD mode), GPU Nodes from the fixtures labelled with the contributor chart's contributedNodeSelector, the chart's
 * serving namespace, and its own simulated kubelet. The pool never connects to it; its agent does the talking.
 */
final class ContributorCluster implements AutoCloseable {

    final String name;
    final String organization;
    final ContributorChart chart;
    private final PlaygroundApiServer server;
    private final KubernetesClient client;
    private final EmbeddedKubelet kubelet;

    private ContributorCluster(String name, String organization, ContributorChart chart, PlaygroundApiServer server,
            KubernetesClient client, EmbeddedKubelet kubelet) {
        this.name = name;
        this.organization = organization;
        this.chart = chart;
        this.server = server;
        this.client = client;
        this.kubelet = kubelet;
    }

    /**
     * Starts its API server (kubeconfig in dir/kubeconfig) and kubelet, and creates the serving namespace.
     *
     * @param network gives each serving pod its IP (e.g. where a SIMULATED engine answers) when not null
     */
    static ContributorCluster start(String name, String organization, Path dir, ContributorChart chart,
            long loadDelayMillis, PodNetwork network) throws IOException {
        PlaygroundApiServer server = PlaygroundApiServer.embedded(dir.resolve("kubeconfig"));
        KubernetesClient client = server.client();
        client.resource(new NamespaceBuilder().withNewMetadata().withName(chart.servingNamespace()).endMetadata().build())
                .createOr(r -> r.update());
        EmbeddedKubelet kubelet = new EmbeddedKubelet(client, loadDelayMillis, network);
        kubelet.start();
        return new ContributorCluster(name, organization, chart, server, client, kubelet);
    }

    Path kubeconfig() {
        return server.kubeconfig;
    }

    KubernetesClient client() {
        return client;
    }

    String describe() {
        return "cluster " + name + " of " + organization + ": its own " + server.describe() + " and simulated kubelet";
    }

    /** A GPU machine of this cluster, from a Node fixture (renamed), contributed with the chart's selector labels. */
    void addContributedNode(String fixture, String nodeName) {
        Node node = PoolFixtures.node(fixture, nodeName, null);
        node.getMetadata().getLabels().putAll(chart.contributedNodeSelector());
        SimulatedKubelet.registerNode(client, node);
    }

    /** The contributor takes a machine back: its Node no longer carries the contributedNodeSelector's labels. */
    void withdraw(String nodeName) {
        client.nodes().withName(nodeName).edit(n -> {
            chart.contributedNodeSelector().keySet().forEach(n.getMetadata().getLabels()::remove);
            return n;
        });
    }

    /** What the agent runs here for the pool: the Deployments in the serving namespace. */
    List<Deployment> servingDeployments() {
        return client.apps().deployments().inNamespace(chart.servingNamespace()).list().getItems();
    }

    @Override
    public void close() {
        kubelet.close();
        client.close();
        server.close();
    }
}
