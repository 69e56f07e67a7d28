package io.gpupool.api.v1alpha1;

/** Names shared by every kind of the gpupool.io API. */
public final class ApiGroup {
    public static final String GROUP = "gpupool.io";
    public static final String VERSION = "v1alpha1";
    /**
     * `kubectl get gpupool-all -A` lists every gpupool object. Not "gpupool": kubectl resolves a name as a resource
     * before it tries categories, and "gpupool" is the GpuPool kind's singular.
     */
    public static final String CATEGORY = "gpupool-all";
    /**
     * Label on Nodes of the pool's own cluster naming the Organization that contributes them (Nodes are written by
     * cluster admins only). Not on namespaces: which organization a namespace belongs to is the Organizations' word
     * (core/inventory/Membership).
     */
    public static final String ORGANIZATION_LABEL = "gpupool.io/organization";
    /** Labels the operator puts on every object it creates. */
    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY = "gpupool";
    public static final String MODEL_DEPLOYMENT_LABEL = "gpupool.io/model-deployment";
    public static final String NODE_LABEL = "gpupool.io/node";
    public static final String CLUSTER_LABEL = "gpupool.io/cluster";

    private ApiGroup() {
    }
}
