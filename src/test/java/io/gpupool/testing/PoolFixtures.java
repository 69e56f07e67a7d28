package io.gpupool.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuClassSpec;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Organization;

/** Small builders for the objects tests create. */
public final class PoolFixtures {

    private PoolFixtures() {
    }

    /** A Node from src/test/resources/fixtures/nodes, contributed by the given organization (or none when null). */
    public static Node node(String fixture, String organization) {
        try (InputStream in = PoolFixtures.class.getResourceAsStream("/fixtures/nodes/" + fixture + ".yaml")) {
            if (in == null) {
                throw new IllegalArgumentException("no node fixture " + fixture);
            }
            Node node = Serialization.unmarshal(in, Node.class);
            if (organization != null) {
                node.getMetadata().getLabels().put(ApiGroup.ORGANIZATION_LABEL, organization);
            }
            return node;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A Node fixture under another name (a second machine of the same kind), contributed as above. */
    public static Node node(String fixture, String name, String organization) {
        Node node = node(fixture, organization);
        node.getMetadata().setName(name);
        node.getMetadata().getLabels().put("kubernetes.io/hostname", name);
        return node;
    }

    public static Namespace namespace(String name) {
        return new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build();
    }

    /** An Organization that the listed namespaces belong to (spec.namespaces, written by a pool admin). */
    public static Organization organization(String name, String... namespaces) {
        Organization org = new Organization();
        org.setMetadata(new ObjectMetaBuilder().withName(name).build());
        org.getSpec().displayName = name;
        org.getSpec().namespaces = new java.util.ArrayList<>(List.of(namespaces));
        return org;
    }

    public static GpuClass gpuClass(String name, long minMemoryMiB, String... products) {
        GpuClass c = new GpuClass();
        c.setMetadata(new ObjectMetaBuilder().withName(name).build());
        GpuClassSpec spec = new GpuClassSpec();
        spec.match.products = List.of(products);
        spec.match.minMemoryMiB = minMemoryMiB;
        c.setSpec(spec);
        return c;
    }

    /** A valid vLLM ModelDeployment of an 8B model (about 20 GiB per GPU). */
    public static ModelDeployment modelDeployment(String namespace, String name, int replicas, int gpus) {
        ModelDeployment md = new ModelDeployment();
        md.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
        ModelDeploymentSpec spec = new ModelDeploymentSpec();
        spec.model = new ModelSpec();
        spec.model.source = "hf://meta-llama/Llama-3.1-8B-Instruct";
        spec.model.parametersBillions = 8.0;
        spec.replicas = replicas;
        spec.gpu.count = gpus;
        md.setSpec(spec);
        return md;
    }

    /**
     * A pod of a serving Deployment as Kubernetes would run it (the mock server has no controllers): owned by the
     * Deployment's ReplicaSet (named with the pod-template hash it puts on the pod), bound to the node the template
     * pins, Running, and Ready when asked.
     */
    public static Pod servingPod(Deployment d, String name, boolean ready) {
        return new PodBuilder(asDeploymentControllerMakesIt(d, name))
                .withNewStatus().withPhase("Running")
                .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
                .endStatus()
                .build();
    }

    /** A pod of the Deployment, without status, as the Deployment controller and the scheduler make it. */
    public static Pod asDeploymentControllerMakesIt(Deployment d, String name) {
        var template = d.getSpec().getTemplate();
        String hash = "5d8f7c9b6";
        var labels = new java.util.LinkedHashMap<>(template.getMetadata().getLabels());
        labels.put("pod-template-hash", hash);
        String node = template.getMetadata().getAnnotations() == null ? null
                : template.getMetadata().getAnnotations().get("gpupool.io/node");
        return new PodBuilder()
                .withNewMetadata().withName(name).withNamespace(d.getMetadata().getNamespace())
                .withLabels(labels)
                .withAnnotations(template.getMetadata().getAnnotations())
                .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet")
                .withName(d.getMetadata().getName() + "-" + hash).withUid("uid-of-" + d.getMetadata().getName())
                .withController(true).withBlockOwnerDeletion(true).endOwnerReference()
                .endMetadata()
                .withSpec(template.getSpec())
                .editSpec().withNodeName(node).endSpec()
                .build();
    }
}
