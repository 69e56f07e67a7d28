package io.gpupool.core.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.core.render.ServingContract;
import io.gpupool.core.validation.EngineArgs;
import io.gpupool.core.validation.EnvRules;

/**
 * What a contributor agrees to run in its cluster: images from an allow-list, no privileged containers, no host
 * paths, namespaces or ports, no pinning to a node or onto the control plane, no priority class it did not allow, no
 * ServiceAccount token, bounded resources, and neither the model's own code nor pickled weights unless it consents.
 * The agent checks every piece of work against it before applying anything, and refuses the whole work with the
 * reasons when one check fails (a contributor's right to refuse). What it consents to is also reported to the pool
 * (GpuNode spec.consent), so that placement does not send it work it would refuse.
 *
 * @param allowedImages          image patterns; '*' matches any run of characters (so "ghcr.io/gpupool/*" allows
 *                               every image under that prefix); empty refuses every image
 * @param allowPrivileged        whether privileged containers, privilege escalation, added capabilities, host
 *                               namespaces and host ports are allowed
 * @param allowHostPath          whether hostPath volumes are allowed
 * @param allowRemoteCode        whether work may run Python code shipped with its model
 * @param allowUnsafeWeights     whether work may load weights in pickle formats
 * @param allowedPriorityClasses PriorityClasses work may name; empty: none (the cluster's default)
 */
public record ContributorPolicy(List<String> allowedImages, boolean allowPrivileged, boolean allowHostPath,
        boolean allowRemoteCode, boolean allowUnsafeWeights, List<String> allowedPriorityClasses) {

    /** Taints of control-plane nodes: work must not tolerate them. */
    static final Set<String> CONTROL_PLANE_TAINTS = Set.of("node-role.kubernetes.io/control-plane",
            "node-role.kubernetes.io/master");
    /** Resources every container must be limited in (GPUs are limited by the rendering itself). */
    static final List<String> LIMITED_RESOURCES = List.of("memory", "ephemeral-storage");

    public ContributorPolicy {
        allowedImages = List.copyOf(allowedImages);
        allowedPriorityClasses = allowedPriorityClasses == null ? List.of() : List.copyOf(allowedPriorityClasses);
    }

    /** A policy that consents to no remote code, no pickled weights and no priority class. */
    public ContributorPolicy(List<String> allowedImages, boolean allowPrivileged, boolean allowHostPath) {
        this(allowedImages, allowPrivileged, allowHostPath, false, false, List.of());
    }

    /** A key of a Secret. */
    public record SecretKey(String secret, String key) {
    }

    /** The reasons the Deployment breaks the policy; empty when it complies. It may read no Secret. */
    public List<String> violations(Deployment deployment) {
        return violations(deployment, Set.of());
    }

    /**
     * The reasons the Deployment breaks the policy; empty when it complies.
     *
     * @param readable the Secret keys of its own work (the agent wrote them): the only ones it may read, one key at a
     *                 time, whatever the policy; work must never reach the contributor's own Secrets, nor another work's
     *                 token
     */
    public List<String> violations(Deployment deployment, Set<SecretKey> readable) {
        List<String> out = new ArrayList<>();
        String name = deployment.getMetadata() == null ? "?" : deployment.getMetadata().getName();
        PodSpec pod = deployment.getSpec() == null || deployment.getSpec().getTemplate() == null ? null
                : deployment.getSpec().getTemplate().getSpec();
        if (pod == null) {
            out.add("Deployment " + name + " has no pod template.");
            return out;
        }
        List<Container> containers = new ArrayList<>();
        if (pod.getInitContainers() != null) {
            containers.addAll(pod.getInitContainers());
        }
        if (pod.getContainers() != null) {
            containers.addAll(pod.getContainers());
        }
        for (Container c : containers) {
            if (!imageAllowed(c.getImage())) {
                out.add("image '" + c.getImage() + "' of container " + c.getName() + " is not in the allowed images "
                        + allowedImages + ".");
            }
            if (!allowPrivileged && c.getSecurityContext() != null) {
                var sc = c.getSecurityContext();
                if (Boolean.TRUE.equals(sc.getPrivileged())) {
                    out.add("container " + c.getName() + " is privileged.");
                }
                if (Boolean.TRUE.equals(sc.getAllowPrivilegeEscalation())) {
                    out.add("container " + c.getName() + " allows privilege escalation.");
                }
                if (sc.getCapabilities() != null && sc.getCapabilities().getAdd() != null
                        && !sc.getCapabilities().getAdd().isEmpty()) {
                    out.add("container " + c.getName() + " adds capabilities " + sc.getCapabilities().getAdd() + ".");
                }
            }
        }
        if (!allowPrivileged && (Boolean.TRUE.equals(pod.getHostNetwork()) || Boolean.TRUE.equals(pod.getHostPID())
                || Boolean.TRUE.equals(pod.getHostIPC()))) {
            out.add("Deployment " + name + " uses the host's network, PID or IPC namespace.");
        }
        podPlacement(name, pod, out);
        for (Container c : containers) {
            containerBounds(c, out);
            codeConsent(c, out);
        }
        for (Container c : containers) {
            if (c.getEnv() != null) {
                c.getEnv().stream().filter(e -> e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null)
                        .map(e -> e.getValueFrom().getSecretKeyRef())
                        .filter(ref -> !readable.contains(new SecretKey(ref.getName(), ref.getKey())))
                        .forEach(ref -> out.add("container " + c.getName() + " reads key " + ref.getKey() + " of Secret "
                                + ref.getName() + ", which is not its work's."));
            }
            if (c.getEnvFrom() != null) {
                c.getEnvFrom().stream().filter(e -> e.getSecretRef() != null).forEach(e -> out.add("container "
                        + c.getName() + " reads all of Secret " + e.getSecretRef().getName() + "."));
            }
        }
        if (pod.getVolumes() != null) {
            for (Volume v : pod.getVolumes()) {
                boolean mountsSecret = v.getSecret() != null || (v.getProjected() != null
                        && v.getProjected().getSources() != null
                        && v.getProjected().getSources().stream().anyMatch(p -> p.getSecret() != null
                                || p.getServiceAccountToken() != null));
                if (mountsSecret) {
                    out.add("volume " + v.getName() + " mounts a Secret or a ServiceAccount token.");
                }
            }
        }
        if (!allowHostPath && pod.getVolumes() != null) {
            for (Volume v : pod.getVolumes()) {
                if (v.getHostPath() != null) {
                    out.add("volume " + v.getName() + " mounts host path " + v.getHostPath().getPath() + ".");
                }
            }
        }
        return out;
    }

    /** Where the pod runs and as whom: not pinned to a node, not on the control plane, no token, no other priority. */
    private void podPlacement(String name, PodSpec pod, List<String> out) {
        if (pod.getNodeName() != null && !pod.getNodeName().isEmpty()) {
            out.add("Deployment " + name + " names node " + pod.getNodeName() + " (spec.nodeName bypasses the "
                    + "scheduler and the node's taints).");
        }
        if (pod.getTolerations() != null) {
            for (var t : pod.getTolerations()) {
                boolean everything = (t.getKey() == null || t.getKey().isEmpty()) && "Exists".equals(t.getOperator());
                if (everything || CONTROL_PLANE_TAINTS.contains(t.getKey())) {
                    out.add("Deployment " + name + " tolerates " + (everything ? "every taint" : t.getKey())
                            + ": work does not run on the control plane.");
                }
            }
        }
        String priority = pod.getPriorityClassName();
        if (priority != null && !priority.isEmpty() && !allowedPriorityClasses.contains(priority)) {
            out.add("Deployment " + name + " asks for PriorityClass " + priority + ", which is not in the allowed "
                    + "priority classes " + allowedPriorityClasses + ".");
        }
        if (!Boolean.FALSE.equals(pod.getAutomountServiceAccountToken())) {
            out.add("Deployment " + name + " does not turn off the ServiceAccount token (automountServiceAccountToken "
                    + "must be false).");
        }
        String account = pod.getServiceAccountName() != null ? pod.getServiceAccountName() : pod.getServiceAccount();
        if (account != null && !account.isEmpty() && !"default".equals(account)) {
            out.add("Deployment " + name + " runs as ServiceAccount " + account + "; work runs as default.");
        }
    }

    /** Bounded: limits on memory and ephemeral storage, no host port. */
    private void containerBounds(Container c, List<String> out) {
        var limits = c.getResources() == null || c.getResources().getLimits() == null ? java.util.Map.<String, Object>of()
                : c.getResources().getLimits();
        for (String resource : LIMITED_RESOURCES) {
            if (!limits.containsKey(resource)) {
                out.add("container " + c.getName() + " has no " + resource + " limit.");
            }
        }
        if (!allowPrivileged && c.getPorts() != null
                && c.getPorts().stream().anyMatch(p -> p.getHostPort() != null && p.getHostPort() != 0)) {
            out.add("container " + c.getName() + " opens a port on the host.");
        }
    }

    /** The model's own code, pickled weights and code loaders only with the contributor's consent. */
    private void codeConsent(Container c, List<String> out) {
        boolean remoteCode = c.getArgs() != null && c.getArgs().stream().anyMatch(EngineArgs::enablesRemoteCode);
        boolean unsafeWeights = false;
        if (c.getEnv() != null) {
            for (var e : c.getEnv()) {
                if (ServingContract.GPUPOOL_ALLOW_REMOTE_CODE.name().equals(e.getName()) && "true".equals(e.getValue())) {
                    remoteCode = true;
                }
                if (ServingContract.GPUPOOL_ALLOW_UNSAFE_WEIGHTS.name().equals(e.getName())
                        && "true".equals(e.getValue())) {
                    unsafeWeights = true;
                }
                if (EnvRules.loadsCode(e.getName())) {
                    out.add("container " + c.getName() + " sets " + e.getName() + ", which loads code.");
                }
            }
        }
        if (remoteCode && !allowRemoteCode) {
            out.add("container " + c.getName() + " may run its model's own code, which this cluster does not allow "
                    + "(policy.allowRemoteCode).");
        }
        if (unsafeWeights && !allowUnsafeWeights) {
            out.add("container " + c.getName() + " may load pickled weights, which this cluster does not allow "
                    + "(policy.allowUnsafeWeights).");
        }
    }

    /** Work may expose its replicas only inside the contributor's cluster: ClusterIP Services, no external IPs. */
    public List<String> violations(io.fabric8.kubernetes.api.model.Service service) {
        List<String> out = new ArrayList<>();
        String type = service.getSpec() == null ? null : service.getSpec().getType();
        if (type != null && !"ClusterIP".equals(type)) {
            out.add("Service " + service.getMetadata().getName() + " is of type " + type + "; only ClusterIP is "
                    + "allowed.");
        }
        if (service.getSpec() != null && service.getSpec().getExternalIPs() != null
                && !service.getSpec().getExternalIPs().isEmpty()) {
            out.add("Service " + service.getMetadata().getName() + " claims external IPs "
                    + service.getSpec().getExternalIPs() + ".");
        }
        return out;
    }

    public boolean imageAllowed(String image) {
        if (image == null) {
            return false;
        }
        for (String pattern : allowedImages) {
            if (glob(pattern).matcher(image).matches()) {
                return true;
            }
        }
        return false;
    }

    private static Pattern glob(String pattern) {
        return Pattern.compile(String.join(".*",
                java.util.Arrays.stream(pattern.split("\\*", -1)).map(Pattern::quote).toList()));
    }
}
