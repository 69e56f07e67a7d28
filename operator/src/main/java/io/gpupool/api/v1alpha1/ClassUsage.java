package io.gpupool.api.v1alpha1;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

public class ClassUsage {

    @JsonPropertyDescription("Name of the GpuClass.")
    public String gpuClass;

    @JsonPropertyDescription("GPUs of this class on the organization's Ready GpuNodes.")
    public int contributed;

    @JsonPropertyDescription("GPUs of this class the organization is guaranteed.")
    public int nominal;

    @JsonPropertyDescription("GPUs of this class held by its admitted replicas.")
    public int used;

    @JsonPropertyDescription("GPUs it uses beyond its nominal quota.")
    public int borrowed;

    @JsonPropertyDescription("GPUs of its nominal quota that others use.")
    public int lent;

    @JsonPropertyDescription("GPUs its waiting replicas ask for.")
    public int pending;

    public ClassUsage() {
    }

    public ClassUsage(String gpuClass, int contributed, int nominal, int used, int borrowed, int lent, int pending) {
        this.gpuClass = gpuClass;
        this.contributed = contributed;
        this.nominal = nominal;
        this.used = used;
        this.borrowed = borrowed;
        this.lent = lent;
        this.pending = pending;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassUsage c && Objects.equals(c.gpuClass, gpuClass) && c.contributed == contributed
                && c.nominal == nominal && c.used == used && c.borrowed == borrowed && c.lent == lent
                && c.pending == pending;
    }

    @Override
    public int hashCode() {
        return Objects.hash(gpuClass, contributed, nominal, used, borrowed, lent, pending);
    }
}
