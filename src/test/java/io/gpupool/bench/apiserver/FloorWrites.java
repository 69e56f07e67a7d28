package io.gpupool.bench.apiserver;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ReplicaCounts;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.core.status.Conditions;

/**
 * The floor: what the API server has to store for one admitted ModelDeployment, written by a plain client with the
 * cheapest verbs and no operator. The user's create of the ModelDeployment, then the status the operator would write
 * (organization, memory estimate, placement, conditions, replica counts, endpoint: the same fields and about the same
 * bytes), its Deployment(s) and its Service as the operator's renderer makes them, owned by the ModelDeployment. Four
 * writes for a one-replica ModelDeployment; no finalizer, no status of pool objects, no reads.
 */
final class FloorWrites {

    /** Conditions carry a fixed transition time: the floor measures writes, not clocks. */
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);

    private final KubernetesClient client;
    private final BenchPool pool;
    private final PoolShape shape;

    FloorWrites(KubernetesClient client, BenchPool pool, PoolShape shape) {
        this.client = client;
        this.pool = pool;
        this.shape = shape;
    }

    /** Creates ModelDeployment {@code index} and writes everything the operator would write for it. */
    void write(int index) {
        ModelDeployment created = client.resource(pool.modelDeployment(index)).create();
        List<Placement> placements = List.of(placement(index));
        created.setStatus(admittedStatus(created, placements));
        client.resource(created).updateStatus();
        OwnerReference owner = new OwnerReferenceBuilder().withApiVersion(created.getApiVersion())
                .withKind(created.getKind()).withName(created.getMetadata().getName())
                .withUid(created.getMetadata().getUid()).withController(true).withBlockOwnerDeletion(false).build();
        List<HasMetadata> children = new ArrayList<>(ServingRenderer.deployments(created, placements,
                ServingSettings.DEFAULT));
        children.add(ServingRenderer.service(created));
        for (HasMetadata child : children) {
            child.getMetadata().setOwnerReferences(List.of(owner));
            client.resource(child).create();
        }
    }

    /**
     * Where a packing scheduler would put ModelDeployment {@code index}: the organization's nodes filled in the order
     * its ModelDeployments arrive.
     */
    private Placement placement(int index) {
        int org = shape.orgOf(index);
        int nthOfOrg = index / shape.organizations();
        List<String> nodes = shape.nodeNames(org);
        int node = Math.min(nodes.size() - 1, nthOfOrg * shape.replicasPerMd() / shape.gpusPerNode());
        return new Placement("local", nodes.get(node), shape.group(org).gpuClass(), shape.replicasPerMd());
    }

    private static ModelDeploymentStatus admittedStatus(ModelDeployment md, List<Placement> placements) {
        Long generation = md.getMetadata().getGeneration();
        int replicas = md.getSpec().replicas;
        ModelDeploymentStatus status = new ModelDeploymentStatus();
        status.organization = md.getMetadata().getNamespace();
        status.estimatedMemoryMiB = Workloads.requiredMemoryMiB(md.getSpec());
        status.placements = new ArrayList<>(placements);
        status.handover = new ArrayList<>();
        String where = String.join(", ", placements.stream()
                .map(p -> p.replicas + " on " + p.cluster + "/" + p.node + " (" + p.gpuClass + ")").toList());
        status.conditions = Conditions.set(null, Conditions.ADMITTED, true, "Admitted",
                replicas + " of " + replicas + " replica(s) admitted: " + where + ".", generation, CLOCK);
        status.conditions = Conditions.set(status.conditions, Conditions.READY, false, "ReplicasNotReady",
                "0 of " + replicas + " replica(s) ready.", generation, CLOCK);
        status.replicas = new ReplicaCounts(replicas, replicas, 0);
        status.endpoint = ServingRenderer.endpoint(md);
        status.phase = "Admitted";
        status.observedGeneration = generation;
        return status;
    }
}
