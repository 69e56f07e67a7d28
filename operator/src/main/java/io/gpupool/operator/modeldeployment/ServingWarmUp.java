package io.gpupool.operator.modeldeployment;

import java.util.List;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;

/**
 * The first serving Deployment a freshly started operator writes pays for the JVM's first pass through that code.
 * Timed in {@code AutoscalingApiServerTest} (a model scaled from zero, on a quiet machine): rendering 16 ms, its
 * {@link DesiredHash} 73 ms (each Fabric8 model class links its {@code toString}'s string concatenation on first use),
 * the POST 66 ms (Jackson builds the serializers of the Deployment's classes), where a warm operator takes about 1 ms
 * for the three. That first Deployment is often a held request's cold start. So once, when the controller starts, a
 * background thread renders, hashes and encodes (and decodes, as its watch event will be) a Deployment and a Service
 * of a made-up ModelDeployment with the client's own serialization; nothing is written.
 */
final class ServingWarmUp {

    private static final Logger LOG = Logger.getLogger(ServingWarmUp.class);

    private ServingWarmUp() {
    }

    /** Starts the warm-up on a daemon thread; a failure is logged at debug level and changes nothing. */
    static void start(KubernetesSerialization serialization) {
        Thread thread = new Thread(() -> {
            try {
                run(serialization);
            } catch (RuntimeException | LinkageError e) {
                LOG.debugf(e, "Warming up the serving children's code failed (the first model pays for it instead)");
            }
        }, "gpupool-serving-warm-up");
        thread.setDaemon(true);
        thread.start();
    }

    /** Renders, hashes, encodes and decodes the children of one made-up ModelDeployment; returns the Deployment. */
    static Deployment run(KubernetesSerialization serialization) {
        ModelDeployment md = new ModelDeployment();
        md.setMetadata(new ObjectMetaBuilder().withNamespace("gpupool-warm-up").withName("warm-up")
                .withUid("00000000-0000-0000-0000-000000000000").build());
        ModelDeploymentSpec spec = new ModelDeploymentSpec();
        spec.model = new ModelSpec();
        spec.model.source = "hf://gpupool/warm-up";
        spec.model.parametersBillions = 1.0;
        spec.replicas = 1;
        md.setSpec(spec);
        Placement placement = new Placement(NodeTrust.LOCAL_CLUSTER, "warm-up-node", "warm-up", 1);
        Deployment deployment = DesiredHash.stamp(
                ServingRenderer.deployments(md, List.of(placement), ServingSettings.DEFAULT).get(0));
        Service service = DesiredHash.stamp(ServingRenderer.service(md));
        serialization.unmarshal(serialization.asJson(service), Service.class);
        return serialization.unmarshal(serialization.asJson(deployment), Deployment.class);
    }
}
