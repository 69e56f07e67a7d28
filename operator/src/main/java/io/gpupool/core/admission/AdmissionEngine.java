package io.gpupool.core.admission;

import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.PoolSnapshot;

/**
 * Decides, for the whole pool at once, which replicas run where. Implementations are pure functions of the snapshot:
 * the operator feeds them from informer caches, the playground and the trace simulator from their own state.
 */
public interface AdmissionEngine {

    CycleResult cycle(PoolSnapshot snapshot);
}
