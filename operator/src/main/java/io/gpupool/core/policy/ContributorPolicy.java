package io.gpupool.core.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;

/**
 * What a contributor agrees to run in its cluster: images from an allow-list, no privileged containers, no host
 * paths. The agent checks every piece of work against it before applying anything, and refuses the whole work with the
 * reasons when one check fails (a contributor's right to refuse).
 *
 * @param allowedImages   image patterns; '*' matches any run of characters (so "ghcr.io/gpupool/*" allows every
 *                        image under that prefix); empty refuses every image
 * @param allowPrivileged whether privileged containers, privilege escalation, added capabilities and host
 *                        namespaces are allowed
 * @param allowHostPath   whether hostPath volumes are allowed
 */
public record ContributorPolicy(List<String> allowedImages, boolean allowPrivileged, boolean allowHostPath) {

    public ContributorPolicy {
        allowedImages = List.copyOf(allowedImages);
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
                        && v.getProjected().getSources().stream().anyMatch(p -> p.getSecret() != null));
                if (mountsSecret) {
                    out.add("volume " + v.getName() + " mounts a Secret.");
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

    /** Work may expose its replicas only inside the contributor's cluster: ClusterIP Services. */
    public List<String> violations(io.fabric8.kubernetes.api.model.Service service) {
        String type = service.getSpec() == null ? null : service.getSpec().getType();
        if (type == null || "ClusterIP".equals(type)) {
            return List.of();
        }
        return List.of("Service " + service.getMetadata().getName() + " is of type " + type
                + "; only ClusterIP is allowed.");
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
