package io.gpupool.operator.cache;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceSpec;

/**
 * The cache of serving Services, keeping what the operator reads of them: metadata without managed fields (with the
 * desired-state hash annotation) and the cluster IPs the API server allocated, which an update must send back
 * unchanged.
 */
public class SlimServices extends SlimItemStore<Service> {

    public SlimServices() {
        super(SlimServices::slim);
    }

    static Service slim(Service s) {
        WithoutManagedFields.strip(s);
        ServiceSpec spec = s.getSpec();
        if (spec != null) {
            ServiceSpec kept = new ServiceSpec();
            kept.setClusterIP(spec.getClusterIP());
            kept.setClusterIPs(spec.getClusterIPs());
            s.setSpec(kept);
        }
        s.setStatus(null);
        return s;
    }
}
