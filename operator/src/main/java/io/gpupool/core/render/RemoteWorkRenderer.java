package io.gpupool.core.render;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.api.v1alpha1.ServingWorkSpec;
import io.gpupool.api.v1alpha1.ServingWorkSpec.EmbeddedObject;
import io.gpupool.core.inventory.NodeTrust;

/**
 * The serving work of a ModelDeployment for one contributed cluster: the same Deployments and Service that
 * {@link ServingRenderer} renders for the pool's own cluster, adapted to run in the contributor's serving namespace,
 * where the replicas of ModelDeployments from many namespaces live side by side. So every object is named and selected
 * by a hash of the ModelDeployment's namespace and name ({@value #WORK_LABEL}), and carries no namespace (the agent
 * puts it in its own). Rendered once, at the pool; the agent applies it as it is.
 */
public final class RemoteWorkRenderer {

    /** Label on the work's objects (and in their selectors): a hash of the ModelDeployment's namespace/name. */
    public static final String WORK_LABEL = "gpupool.io/work";
    /** Label on ServingWork: the ModelDeployment's namespace (its name is in gpupool.io/model-deployment). */
    public static final String MD_NAMESPACE_LABEL = "gpupool.io/model-deployment-namespace";
    /**
     * The one Secret of a hub namespace its agent may read: the Hugging Face tokens of the models that run on its
     * cluster, one key per ServingWork (the key is the work's name). The agent mirrors it, with the keys of the work it
     * runs, under the same name in its serving namespace, the one Secret there it may read.
     */
    public static final String MODEL_CREDENTIALS_SECRET = "gpupool-model-credentials";

    private RemoteWorkRenderer() {
    }

    /** Name of the ServingWork of a ModelDeployment (unique within a hub namespace: namespaces contain no dots). */
    public static String workName(String mdNamespace, String mdName) {
        return mdNamespace + "." + mdName;
    }

    /**
     * The label that separates one ModelDeployment's objects from another's in the shared serving namespace: the whole
     * SHA-256 of its namespace and name ({@link ServingRenderer#fullHash}), so that no tenant can pick a name whose
     * objects select, or are named like, another tenant's.
     */
    public static String workHash(String mdNamespace, String mdName) {
        return ServingRenderer.fullHash(mdNamespace + "/" + mdName);
    }

    /**
     * @param organization the organization that owns the ModelDeployment (its namespace's)
     * @param placements   the ModelDeployment's placements; those in other clusters are ignored
     */
    public static ServingWork render(ModelDeployment md, String organization, String cluster, List<Placement> placements,
            ServingSettings settings) {
        String ns = md.getMetadata().getNamespace();
        String name = md.getMetadata().getName();
        String hash = workHash(ns, name);
        // Readable prefixes, unique suffixes: the hash alone tells the objects of two works apart. A Service name is
        // a DNS label (63): 10 characters of the name, '-' and the 52 of the hash.
        String base = truncate(name, 40) + "-" + hash;

        ServingWorkSpec spec = new ServingWorkSpec();
        spec.modelDeployment = new ServingWorkSpec.ModelDeploymentRef(ns, name);
        spec.organization = organization;
        // The token's Secret lives at the pool, in the ModelDeployment's namespace; its copy for this cluster is a key
        // of the credentials Secret, which the agent mirrors into its serving namespace.
        spec.credentialsKey = md.getSpec().hfTokenSecretRef == null ? null : workName(ns, name);
        int replicas = 0;
        for (Placement p : placements) {
            if (!cluster.equals(p.cluster) || p.replicas <= 0) {
                continue;
            }
            replicas += p.replicas;
            Deployment d = ServingRenderer.deployment(md, p, settings);
            d.getMetadata().setNamespace(null);
            d.getMetadata().setName(base + "-" + ServingRenderer.nodeHash(p.cluster, p.node));
            d.getMetadata().getLabels().put(WORK_LABEL, hash);
            d.getSpec().getSelector().getMatchLabels().put(WORK_LABEL, hash);
            d.getSpec().getTemplate().getMetadata().getLabels().put(WORK_LABEL, hash);
            if (spec.credentialsKey != null) {
                pointTokenAt(d, spec.credentialsKey);
            }
            spec.deployments.add(EmbeddedObject.of(d));
        }
        spec.replicas = replicas;
        Service svc = ServingRenderer.service(md);
        svc.getMetadata().setNamespace(null);
        svc.getMetadata().setName(truncate(name, 63 - 1 - hash.length()) + "-" + hash);
        svc.getMetadata().getLabels().put(WORK_LABEL, hash);
        svc.getSpec().setSelector(new LinkedHashMap<>(Map.of(WORK_LABEL, hash)));
        spec.service = EmbeddedObject.of(svc);

        ServingWork work = new ServingWork();
        work.setMetadata(new ObjectMetaBuilder()
                .withName(workName(ns, name))
                .withNamespace(NodeTrust.hubNamespace(cluster))
                .addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                .addToLabels(ApiGroup.MODEL_DEPLOYMENT_LABEL, name)
                .addToLabels(MD_NAMESPACE_LABEL, ns)
                .addToLabels(ApiGroup.CLUSTER_LABEL, cluster)
                .build());
        work.setSpec(spec);
        return work;
    }

    private static void pointTokenAt(Deployment d, String key) {
        for (var c : d.getSpec().getTemplate().getSpec().getContainers()) {
            for (var env : c.getEnv()) {
                if (ServingRenderer.HF_TOKEN_ENV.equals(env.getName()) && env.getValueFrom() != null
                        && env.getValueFrom().getSecretKeyRef() != null) {
                    env.getValueFrom().getSecretKeyRef().setName(MODEL_CREDENTIALS_SECRET);
                    env.getValueFrom().getSecretKeyRef().setKey(key);
                }
            }
        }
    }

    /** The clusters other than the pool's own that placements use, in order. */
    public static List<String> remoteClusters(List<Placement> placements) {
        List<String> out = new ArrayList<>();
        for (Placement p : placements) {
            if (!NodeTrust.LOCAL_CLUSTER.equals(p.cluster) && p.replicas > 0 && !out.contains(p.cluster)) {
                out.add(p.cluster);
            }
        }
        return out;
    }

    private static String truncate(String s, int max) {
        if (s.length() <= max) {
            return s;
        }
        String t = s.substring(0, max);
        while (t.endsWith("-") || t.endsWith(".")) {
            t = t.substring(0, t.length() - 1);
        }
        return t;
    }
}
