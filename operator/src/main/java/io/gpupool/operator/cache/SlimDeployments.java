package io.gpupool.operator.cache;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;

/**
 * The cache of serving Deployments, keeping what the operator reads of them: metadata without managed fields (names,
 * labels, annotations with the desired-state hash and the node, owner references), {@code spec.replicas} and
 * {@code spec.selector}, and the status (ready replicas). The pod template, most of a Deployment, is never read back:
 * whether a Deployment is what the operator would write is decided by its hash annotation, and an update sends the
 * whole rendered object. Repeated strings are kept once ({@link CachedStrings}).
 */
public class SlimDeployments extends SlimItemStore<Deployment> {

    public SlimDeployments() {
        super(SlimDeployments::slim);
    }

    static Deployment slim(Deployment d) {
        WithoutManagedFields.strip(d);
        DeploymentSpec spec = d.getSpec();
        if (spec != null) {
            DeploymentSpec kept = new DeploymentSpec();
            kept.setReplicas(spec.getReplicas());
            kept.setSelector(spec.getSelector());
            if (spec.getSelector() != null) {
                CachedStrings.values(spec.getSelector().getMatchLabels());
            }
            d.setSpec(kept);
        }
        return d;
    }
}
