package io.gpupool.bench.apiserver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientTimeoutException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationSpec;
import io.gpupool.core.discovery.NodeGpuDiscovery;

/**
 * Writes a {@link PoolShape} into the API server the way an admin and the contributors would: the CRDs, the GpuPool and
 * GpuClasses of examples/, one Organization and member namespace per organization, and GPU Nodes labelled with their
 * organization (GFD labels and allocatable {@code nvidia.com/gpu}, Ready) that the operator turns into GpuNodes.
 */
final class BenchPool {

    /** A small open model that fits every class of the shape (the estimate is well under 16 GB). */
    static final String MODEL = "hf://Qwen/Qwen2.5-0.5B-Instruct";

    private final KubernetesClient client;
    private final PoolShape shape;

    BenchPool(KubernetesClient client, PoolShape shape) {
        this.client = client;
        this.shape = shape;
    }

    static void installCrds(KubernetesClient client) throws IOException {
        List<CustomResourceDefinition> crds = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("crds"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml")).sorted()
                    .toList()) {
                try (InputStream in = Files.newInputStream(f)) {
                    for (HasMetadata o : client.load(in).items()) {
                        crds.add(client.apiextensions().v1().customResourceDefinitions()
                                .resource((CustomResourceDefinition) o).createOr(r -> r.update()));
                    }
                }
            }
        }
        for (CustomResourceDefinition crd : crds) {
            client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
                    .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions()
                            .stream().anyMatch(x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
                            60, TimeUnit.SECONDS);
        }
    }

    /** The GpuPool and GpuClasses of examples/, then Organizations and their namespaces. */
    void installPolicy() throws IOException {
        for (Object o : loadAll(Path.of("examples", "00-gpupool.yaml"))) {
            GpuPool pool = Serialization.unmarshal(Serialization.asYaml(o), GpuPool.class);
            // The pool admin believes machines as large as the shape's (the kueue shape's nodes carry 20 GPUs, above
            // the default ceiling of GpuPool.spec.maxGpusPerNode, which would refuse them as forged).
            Integer ceiling = pool.getSpec().maxGpusPerNode;
            if (ceiling == null || ceiling < shape.gpusPerNode()) {
                pool.getSpec().maxGpusPerNode = shape.gpusPerNode();
            }
            client.resource(pool).createOr(r -> r.update());
        }
        for (Object o : loadAll(Path.of("examples", "01-gpuclasses.yaml"))) {
            client.resource(Serialization.unmarshal(Serialization.asYaml(o), GpuClass.class)).createOr(r -> r.update());
        }
        for (int i = 0; i < shape.organizations(); i++) {
            Organization org = new Organization();
            org.setMetadata(new ObjectMetaBuilder().withName(shape.organization(i)).build());
            org.setSpec(new OrganizationSpec());
            org.getSpec().displayName = "Benchmark organization " + i + " (" + shape.group(i).gpuClass() + " group)";
            org.getSpec().namespaces = List.of(shape.namespace(i));
            client.resource(org).createOr(r -> r.update());
            Namespace ns = new NamespaceBuilder().withNewMetadata().withName(shape.namespace(i)).endMetadata().build();
            client.resource(ns).createOr(r -> r.update());
        }
    }

    /** Every organization's nodes, created (and their status written) by {@code threads} parallel writers. */
    void contributeNodes(int threads) throws InterruptedException {
        List<Node> nodes = new ArrayList<>();
        for (int o = 0; o < shape.organizations(); o++) {
            for (String name : shape.nodeNames(o)) {
                nodes.add(node(name, shape.organization(o), shape.group(o), shape.gpusPerNode()));
            }
        }
        Parallel.forEach(nodes.size(), threads, i -> {
            Node node = nodes.get(i);
            var status = node.getStatus();
            Node stored = client.nodes().resource(node).create();
            stored.setStatus(status);
            client.nodes().resource(stored).updateStatus();
        });
    }

    /** Waits until the operator has counted every contributed GPU (GpuClass status, written after a cycle). */
    void awaitCapacityCounted(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int g = 0; g < shape.groups(); g++) {
            int expected = shape.gpusOfGroup(g);
            String name = PoolShape.GROUPS[g].gpuClass();
            try {
                client.resources(GpuClass.class).withName(name).waitUntilCondition(
                        c -> c != null && c.getStatus() != null && c.getStatus().gpus != null
                                && c.getStatus().gpus == expected,
                        Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (KubernetesClientTimeoutException e) {
                throw new IllegalStateException("The operator did not count the " + expected + " GPUs of GpuClass "
                        + name + " within " + timeout.toSeconds() + " s (its status); see the operator log.", e);
            }
        }
    }

    ModelDeployment modelDeployment(int index) {
        int org = shape.orgOf(index);
        ModelDeployment md = new ModelDeployment();
        md.setMetadata(new ObjectMetaBuilder().withName(shape.mdName(index)).withNamespace(shape.namespace(org)).build());
        ModelDeploymentSpec spec = new ModelDeploymentSpec();
        spec.model = new ModelSpec();
        spec.model.source = MODEL;
        spec.model.parametersBillions = 0.5;
        spec.model.maxContextLength = 4096;
        spec.replicas = shape.replicasPerMd();
        spec.gpu.count = 1;
        spec.gpu.classes = List.of(shape.group(org).gpuClass());
        md.setSpec(spec);
        return md;
    }

    /** Creates ModelDeployments {@code from} (inclusive) to {@code to} (exclusive), calling {@code sent} just before each. */
    void createModelDeployments(int from, int to, int threads, IntConsumer sent) throws InterruptedException {
        Parallel.forEach(to - from, threads, i -> {
            ModelDeployment md = modelDeployment(from + i);
            sent.accept(from + i);
            client.resource(md).create();
        });
    }

    static Node node(String name, String organization, PoolShape.Group group, int gpuCount) {
        String gpus = Integer.toString(gpuCount);
        return new NodeBuilder()
                .withNewMetadata().withName(name)
                .withLabels(Map.of("kubernetes.io/hostname", name, "kubernetes.io/os", "linux",
                        "kubernetes.io/arch", "amd64", "nvidia.com/gpu.present", "true",
                        NodeGpuDiscovery.PRODUCT_LABEL, group.product(),
                        NodeGpuDiscovery.MEMORY_LABEL, Long.toString(group.memoryMiB()),
                        "nvidia.com/gpu.count", gpus, ApiGroup.ORGANIZATION_LABEL, organization))
                .endMetadata()
                .withNewSpec().addNewTaint().withKey("nvidia.com/gpu").withValue("present").withEffect("NoSchedule")
                .endTaint().endSpec()
                .withNewStatus()
                .withCapacity(Map.of("cpu", new Quantity("64"), "memory", new Quantity("512Gi"),
                        NodeGpuDiscovery.GPU_RESOURCE, new Quantity(gpus), "pods", new Quantity("110")))
                .withAllocatable(Map.of("cpu", new Quantity("64"), "memory", new Quantity("512Gi"),
                        NodeGpuDiscovery.GPU_RESOURCE, new Quantity(gpus), "pods", new Quantity("110")))
                .addNewCondition().withType("Ready").withStatus("True").withReason("KubeletReady")
                .withMessage("kubelet is posting ready status (simulated)").endCondition()
                .endStatus().build();
    }

    private static List<?> loadAll(Path file) throws IOException {
        Object parsed = Serialization.unmarshal(Files.readString(file));
        return parsed instanceof List<?> l ? l : List.of(parsed);
    }
}
