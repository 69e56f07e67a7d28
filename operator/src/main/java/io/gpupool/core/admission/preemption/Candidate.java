package io.gpupool.core.admission.preemption;

import io.gpupool.core.fairshare.CycleLedger;
import io.gpupool.core.model.Workload;

/**
 * One replica that may be evicted.
 *
 * @param slot     where it runs
 * @param w        its workload
 * @param org      its organization's index
 * @param own      it belongs to the preemptor's organization
 * @param orgShare its organization's weighted share (0 for the preemptor's own organization)
 * @param elastic  it is one of its workload's elastic replicas (above the guaranteed ones): preempted first
 */
public record Candidate(CycleLedger.Slot slot, Workload w, int org, boolean own, double orgShare, boolean elastic) {

    public Candidate(CycleLedger.Slot slot, Workload w, int org, boolean own, double orgShare) {
        this(slot, w, org, own, orgShare, false);
    }

    public int workload() {
        return slot.workload();
    }

    public int gpus() {
        return w.gpusPerReplica();
    }
}
