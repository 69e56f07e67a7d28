package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** An organization's ledger in one GpuClass: GPU-hours since the ledger started, and the GPUs counted now. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LedgerClass {

    @JsonPropertyDescription("Name of the GpuClass.")
    public String gpuClass;

    @JsonPropertyDescription("GPU-hours contributed: verified GPUs of the organization's schedulable nodes × time.")
    public Double contributedGpuHours;

    @JsonPropertyDescription("GPU-hours used: GPUs its replicas held (running or stopping) × time.")
    public Double usedGpuHours;

    @JsonPropertyDescription("GPU-hours of its unused nominal quota that other organizations borrowed.")
    public Double lentGpuHours;

    @JsonPropertyDescription("GPU-hours it used beyond its nominal quota.")
    public Double borrowedGpuHours;

    @JsonPropertyDescription("GPUs counted as contributed from checkpointTime on (the ledger resumes from them).")
    public Double contributedGpus;

    @JsonPropertyDescription("GPUs counted as used from checkpointTime on.")
    public Double usedGpus;

    @JsonPropertyDescription("GPUs counted as lent from checkpointTime on.")
    public Double lentGpus;

    @JsonPropertyDescription("GPUs counted as borrowed from checkpointTime on.")
    public Double borrowedGpus;

    public LedgerClass() {
    }
}
