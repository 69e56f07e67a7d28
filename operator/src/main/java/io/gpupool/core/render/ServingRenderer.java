package io.gpupool.core.render;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.discovery.NodeGpuDiscovery;
import io.gpupool.core.gateway.ModelCatalog;
import io.gpupool.core.memory.MemoryEstimator;

/**
 * Renders the serving workload of a ModelDeployment: one Deployment per placement (its replicas pinned to that node)
 * and one Service in front of all of them. A pure function of its inputs, tested with golden files; the operator, the
 * contributor agent and the playground all render through it.
 */
public final class ServingRenderer {

    public static final String CONTAINER_NAME = "server";
    public static final String PORT_NAME = "http";
    public static final String HEALTH_PATH = "/health";
    public static final String NODE_ANNOTATION = "gpupool.io/node";
    public static final String NODE_HASH_LABEL = "gpupool.io/node-hash";
    public static final String DRAIN_HOOK = "/usr/local/bin/gpupool-drain";
    /** The engine's Hugging Face token (huggingface_hub reads it). */
    public static final String HF_TOKEN_ENV = "HF_TOKEN";
    static final int STARTUP_PROBE_PERIOD_SECONDS = 10;
    /**
     * Start-up budget, as inference-image/README.md documents it: download at 50 MB/s, load at 500 MB/s, plus 300 s
     * for the image and the engine to start; never below 60 periods.
     */
    static final double DOWNLOAD_BYTES_PER_SECOND = 50e6;
    static final double LOAD_BYTES_PER_SECOND = 500e6;
    static final int STARTUP_BASE_SECONDS = 300;
    static final int STARTUP_MIN_FAILURES = 60;
    /** Seconds of the grace period kept for the engine's own shutdown after the drain hook returns. */
    static final int SHUTDOWN_RESERVE_SECONDS = 20;

    private ServingRenderer() {
    }

    /** The in-cluster base URL of the OpenAI-compatible API. */
    public static String endpoint(ModelDeployment md) {
        return "http://" + md.getMetadata().getName() + "." + md.getMetadata().getNamespace() + ".svc:"
                + ServingContract.PORT + "/v1";
    }

    /**
     * The port a serving pod answers on: its container port named {@value #PORT_NAME}, as rendered here, else the
     * serving contract's. What the gateway and the agents dial.
     */
    public static int servingPort(Pod pod) {
        if (pod.getSpec() != null && pod.getSpec().getContainers() != null) {
            for (Container c : pod.getSpec().getContainers()) {
                if (c.getPorts() == null) {
                    continue;
                }
                for (var p : c.getPorts()) {
                    if (PORT_NAME.equals(p.getName()) && p.getContainerPort() != null) {
                        return p.getContainerPort();
                    }
                }
            }
        }
        return ServingContract.PORT;
    }

    /** Name of the Deployment that runs a ModelDeployment's replicas on one node. */
    public static String deploymentName(String mdName, String cluster, String node) {
        return mdName + "-" + nodeHash(cluster, node);
    }

    /**
     * The node part of a Deployment's name and selector ({@value #NODE_HASH_LABEL}): the whole SHA-256, because in a
     * contributor's serving namespace the replicas of many organizations' ModelDeployments live side by side and a
     * name or selector that two of them could share (32 bits can be collided on purpose in minutes) would let one
     * select, replace or delete the other's pods.
     */
    public static String nodeHash(String cluster, String node) {
        return fullHash(cluster + "/" + node);
    }

    /** Eight hex digits of the SHA-256 of a string: change detection, never a name that separates tenants. */
    public static String shortHash(String s) {
        return HexFormat.of().formatHex(sha256(s), 0, 4);
    }

    /**
     * The whole SHA-256 of a string in lower-case base32 (RFC 4648 alphabet, no padding): 52 characters, valid in
     * names and label values (at most 63), for names and selectors that separate tenants.
     */
    public static String fullHash(String s) {
        byte[] digest = sha256(s);
        StringBuilder out = new StringBuilder(52);
        int buffer = 0;
        int bits = 0;
        for (byte b : digest) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(BASE32.charAt((buffer >> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        if (bits > 0) {
            out.append(BASE32.charAt((buffer << (5 - bits)) & 31));
        }
        return out.toString();
    }

    private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static List<Deployment> deployments(ModelDeployment md, List<Placement> placements, ServingSettings settings) {
        List<Deployment> out = new ArrayList<>();
        for (Placement p : placements) {
            if (p.replicas > 0) {
                out.add(deployment(md, p, settings));
            }
        }
        return out;
    }

    public static Deployment deployment(ModelDeployment md, Placement placement, ServingSettings settings) {
        String name = md.getMetadata().getName();
        Map<String, String> selector = new LinkedHashMap<>();
        selector.put(ApiGroup.MODEL_DEPLOYMENT_LABEL, name);
        selector.put(NODE_HASH_LABEL, nodeHash(placement.cluster, placement.node));
        Map<String, String> labels = new LinkedHashMap<>(commonLabels(name));
        labels.putAll(selector);
        labels.put(ApiGroup.CLUSTER_LABEL, placement.cluster);
        Deployment deployment = new DeploymentBuilder()
                .withMetadata(new ObjectMetaBuilder()
                        .withName(deploymentName(name, placement.cluster, placement.node))
                        .withNamespace(md.getMetadata().getNamespace())
                        .withLabels(labels)
                        .addToAnnotations(NODE_ANNOTATION, placement.node)
                        .build())
                .withNewSpec()
                .withReplicas(placement.replicas)
                .withNewSelector().withMatchLabels(selector).endSelector()
                // No surge: a surge pod would need GPUs that were never admitted and would wait forever.
                .withNewStrategy().withType("RollingUpdate").withNewRollingUpdate()
                .withMaxSurge(new IntOrString(0)).withMaxUnavailable(new IntOrString(1))
                .endRollingUpdate().endStrategy()
                .withNewTemplate()
                .withMetadata(new ObjectMetaBuilder().withLabels(labels)
                        .addToAnnotations(NODE_ANNOTATION, placement.node).build())
                .endTemplate()
                .endSpec()
                .build();
        // Set, not given to the builder: a builder copies every object it is given into builders of its own and
        // builds them again. Setting the pod spec and its container halves the time to render a Deployment (the same
        // JSON, so the same desired hash), which was a tenth of the operator's CPU in a burst of applies.
        deployment.getSpec().getTemplate().setSpec(podSpec(md, placement, settings));
        return deployment;
    }

    public static Service service(ModelDeployment md) {
        String name = md.getMetadata().getName();
        return new ServiceBuilder()
                .withMetadata(new ObjectMetaBuilder().withName(name).withNamespace(md.getMetadata().getNamespace())
                        .withLabels(commonLabels(name)).build())
                .withNewSpec()
                .withType("ClusterIP")
                .addToSelector(ApiGroup.MODEL_DEPLOYMENT_LABEL, name)
                .addNewPort().withName(PORT_NAME).withProtocol("TCP").withPort(ServingContract.PORT)
                .withTargetPort(new IntOrString(PORT_NAME)).endPort()
                .endSpec()
                .build();
    }

    /**
     * The labels every serving pod the operator runs carries, whatever it serves (among {@link #commonLabels}): the
     * namespace's NetworkPolicy selects its serving pods by them ({@link ServingAccess}).
     */
    public static Map<String, String> servingPodLabels() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app.kubernetes.io/component", "model-server");
        labels.put(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY);
        return labels;
    }

    static Map<String, String> commonLabels(String mdName) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app.kubernetes.io/name", "gpupool-serving");
        labels.put("app.kubernetes.io/instance", mdName);
        labels.put("app.kubernetes.io/component", "model-server");
        labels.put(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY);
        labels.put(ApiGroup.MODEL_DEPLOYMENT_LABEL, mdName);
        return labels;
    }

    static PodSpec podSpec(ModelDeployment md, Placement placement, ServingSettings settings) {
        ModelDeploymentSpec spec = md.getSpec();
        int gpus = spec.gpu.count;
        ServingResources bounds = ModelCacheClaims.shared(spec, placement, settings)
                ? ServingResources.of(spec).modelsOnClaim() : ServingResources.of(spec);
        PodSpec pod = new PodSpecBuilder()
                .withAutomountServiceAccountToken(false)
                .withEnableServiceLinks(false)
                .withTerminationGracePeriodSeconds((long) settings.drainGracePeriodSeconds())
                .withNewSecurityContext()
                .withRunAsNonRoot(true).withRunAsUser(1000L).withRunAsGroup(1000L).withFsGroup(1000L)
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .endSecurityContext()
                // Pin the replica to the node the pool admitted it on; metadata.name matches the Node object exactly.
                .withNewAffinity().withNewNodeAffinity().withNewRequiredDuringSchedulingIgnoredDuringExecution()
                .addNewNodeSelectorTerm().addNewMatchField().withKey("metadata.name").withOperator("In")
                .withValues(placement.node).endMatchField().endNodeSelectorTerm()
                .endRequiredDuringSchedulingIgnoredDuringExecution().endNodeAffinity().endAffinity()
                .addNewToleration().withKey(NodeGpuDiscovery.GPU_RESOURCE).withOperator("Exists").withEffect("NoSchedule")
                .endToleration()
                // Every scratch volume is bounded (ServingResources): the node is someone else's.
                // The namespace's model cache on the node (ModelCacheClaims), or a bounded one of its own.
                .addToVolumes(ModelCacheClaims.volume(spec, placement, settings, ServingResources.gib(bounds.modelsGiB())))
                .addNewVolume().withName("tmp").withNewEmptyDir().withSizeLimit(ServingResources.gib(bounds.tmpGiB()))
                .endEmptyDir().endVolume()
                .addNewVolume().withName("home").withNewEmptyDir().withSizeLimit(ServingResources.gib(bounds.homeGiB()))
                .endEmptyDir().endVolume()
                // Tensor-parallel workers exchange tensors through shared memory; the default 64 MiB /dev/shm is too small.
                .addNewVolume().withName("dshm").withNewEmptyDir().withMedium("Memory")
                .withSizeLimit(ServingResources.gib(bounds.shmGiB())).endEmptyDir().endVolume()
                .build();
        pod.setContainers(new ArrayList<>(List.of(container(md, gpus, settings, bounds)))); // set: see deployment()
        return pod;
    }

    static Container container(ModelDeployment md, int gpus, ServingSettings settings, ServingResources bounds) {
        ModelDeploymentSpec spec = md.getSpec();
        Quantity gpuQuantity = new Quantity(String.valueOf(gpus));
        return new ContainerBuilder()
                .withName(CONTAINER_NAME)
                .withImage(settings.imageFor(spec.engine))
                .withArgs(spec.engineArgs == null ? List.of() : spec.engineArgs)
                .withEnv(env(md))
                .addNewPort().withName(PORT_NAME).withContainerPort(ServingContract.PORT).withProtocol("TCP").endPort()
                .withNewResources()
                .addToRequests("cpu", new Quantity(String.valueOf(2 * gpus)))
                .addToRequests("memory", ServingResources.gib(bounds.memoryRequestGiB()))
                .addToRequests("ephemeral-storage", ServingResources.gib(bounds.ephemeralRequestGiB()))
                .addToRequests(NodeGpuDiscovery.GPU_RESOURCE, gpuQuantity)
                .addToLimits("memory", ServingResources.gib(bounds.memoryLimitGiB()))
                .addToLimits("ephemeral-storage", ServingResources.gib(bounds.ephemeralLimitGiB()))
                .addToLimits(NodeGpuDiscovery.GPU_RESOURCE, gpuQuantity)
                .endResources()
                .withStartupProbe(startupProbe(spec))
                .withReadinessProbe(httpProbe(5, 5, 3))
                .withLivenessProbe(httpProbe(10, 10, 6))
                // Neither engine drains on SIGTERM: the image's hook waits for in-flight requests to finish first.
                .withNewLifecycle().withNewPreStop().withNewExec().withCommand(DRAIN_HOOK,
                        String.valueOf(Math.max(0, settings.drainGracePeriodSeconds() - SHUTDOWN_RESERVE_SECONDS)), "5")
                .endExec().endPreStop().endLifecycle()
                .withNewSecurityContext()
                .withAllowPrivilegeEscalation(false).withPrivileged(false).withReadOnlyRootFilesystem(true)
                .withRunAsNonRoot(true).withRunAsUser(1000L).withRunAsGroup(1000L)
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .endSecurityContext()
                .addNewVolumeMount().withName(ModelCacheClaims.VOLUME).withMountPath(ServingContract.CACHE_DIR).endVolumeMount()
                .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
                .addNewVolumeMount().withName("home").withMountPath("/home/gpupool").endVolumeMount()
                .addNewVolumeMount().withName("dshm").withMountPath("/dev/shm").endVolumeMount()
                .build();
    }

    /** Formatted once: String.format on every render was 1.7 % of the operator's CPU. */
    private static final String GPU_MEMORY_UTILIZATION = String.format(Locale.ROOT, "%.2f",
            MemoryEstimator.GPU_MEMORY_UTILIZATION);

    /** The ServingContract variables, then HF settings, then the user's own variables. */
    static List<EnvVar> env(ModelDeployment md) {
        ModelDeploymentSpec spec = md.getSpec();
        Map<ServingContract, String> contract = new LinkedHashMap<>();
        contract.put(ServingContract.GPUPOOL_ENGINE, spec.engine);
        contract.put(ServingContract.GPUPOOL_MODEL_SOURCE, spec.model.source);
        contract.put(ServingContract.GPUPOOL_MODEL_REVISION, spec.model.revision == null ? "main" : spec.model.revision);
        if (spec.model.file != null) {
            contract.put(ServingContract.GPUPOOL_MODEL_FILE, spec.model.file);
        }
        contract.put(ServingContract.GPUPOOL_SERVED_MODEL_NAME, ModelCatalog.servedName(md));
        contract.put(ServingContract.GPUPOOL_TENSOR_PARALLEL_SIZE, String.valueOf(spec.gpu.count));
        contract.put(ServingContract.GPUPOOL_MAX_CONTEXT_LENGTH, String.valueOf(spec.model.maxContextLength));
        contract.put(ServingContract.GPUPOOL_DTYPE, spec.model.dtype);
        contract.put(ServingContract.GPUPOOL_GPU_MEMORY_UTILIZATION, GPU_MEMORY_UTILIZATION);
        contract.put(ServingContract.GPUPOOL_PORT, String.valueOf(ServingContract.PORT));
        contract.put(ServingContract.GPUPOOL_CACHE_DIR, ServingContract.CACHE_DIR);
        contract.put(ServingContract.GPUPOOL_ALLOW_REMOTE_CODE, String.valueOf(Boolean.TRUE.equals(spec.allowRemoteCode)));
        contract.put(ServingContract.GPUPOOL_ALLOW_UNSAFE_WEIGHTS,
                String.valueOf(Boolean.TRUE.equals(spec.allowUnsafeWeights)));
        List<EnvVar> env = new ArrayList<>();
        contract.forEach((k, v) -> env.add(new EnvVar(k.name(), v, null)));
        env.add(new EnvVar("HF_HOME", ServingContract.CACHE_DIR + "/hf", null));
        if (spec.hfTokenSecretRef != null) {
            env.add(new EnvVarBuilder().withName(HF_TOKEN_ENV).withNewValueFrom().withNewSecretKeyRef()
                    .withName(spec.hfTokenSecretRef.name)
                    .withKey(spec.hfTokenSecretRef.key == null ? "token" : spec.hfTokenSecretRef.key)
                    .endSecretKeyRef().endValueFrom().build());
        }
        if (spec.env != null) {
            env.addAll(spec.env);
        }
        return env;
    }

    /**
     * Gives the engine time to download and load the weights before liveness checks begin, so that a large model is
     * not killed while it loads (KServe #1247, #3795).
     */
    static Probe startupProbe(ModelDeploymentSpec spec) {
        double weightsBytes = (spec.model.parametersBillions == null ? 8 : spec.model.parametersBillions) * 1e9
                * MemoryEstimator.bytesPerParameter(spec.model.dtype);
        double seconds = weightsBytes / DOWNLOAD_BYTES_PER_SECOND + weightsBytes / LOAD_BYTES_PER_SECOND
                + STARTUP_BASE_SECONDS;
        int failures = Math.max(STARTUP_MIN_FAILURES, (int) Math.ceil(seconds / STARTUP_PROBE_PERIOD_SECONDS));
        return new ProbeBuilder().withNewHttpGet().withPath(HEALTH_PATH).withPort(new IntOrString(PORT_NAME))
                .endHttpGet().withPeriodSeconds(STARTUP_PROBE_PERIOD_SECONDS).withFailureThreshold(failures)
                .withTimeoutSeconds(5).build();
    }

    static Probe httpProbe(int periodSeconds, int timeoutSeconds, int failureThreshold) {
        return new ProbeBuilder().withNewHttpGet().withPath(HEALTH_PATH).withPort(new IntOrString(PORT_NAME))
                .endHttpGet().withPeriodSeconds(periodSeconds).withFailureThreshold(failureThreshold)
                .withTimeoutSeconds(timeoutSeconds).build();
    }
}
