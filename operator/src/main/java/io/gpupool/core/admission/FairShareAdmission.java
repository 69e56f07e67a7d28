package io.gpupool.core.admission;

import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.PoolSnapshot;

/**
 * Fair-share admission: nominal quotas per organization and GpuClass (spec quota plus contributed GPUs less the
 * commons reserve), borrowing of idle GPUs within borrowing and lending limits, the lowest weighted dominant share
 * first among waiting replicas, and reclaim of nominal quota by evicting borrowed replicas. Evicted GPUs are not
 * handed over in the same cycle: the preemptor waits ({@code Preempting}) until the victims' pods are gone.
 *
 * <p>
 * The rules, with worked examples, are in docs/fair-share.md; {@link io.gpupool.core.fairshare.QuotaAccounting}
 * reports the resulting quota usage.
 */
public final class FairShareAdmission implements AdmissionEngine {

    @Override
    public CycleResult cycle(PoolSnapshot snapshot) {
        return new FairShareCycle(snapshot).run();
    }
}
