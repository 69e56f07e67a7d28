package io.gpupool.core.ledger;

/**
 * The four figures the ledger keeps for an organization in a GpuClass, as GPUs (a rate) or GPU-hours (a total).
 *
 * @param contributed verified GPUs of its schedulable nodes (§ verification): what it gives the pool
 * @param used        GPUs its replicas hold, running or stopping
 * @param lent        GPUs of its unused nominal quota that borrowers use
 * @param borrowed    GPUs it uses beyond its nominal quota
 */
public record GpuHours(double contributed, double used, double lent, double borrowed) {

    public static final GpuHours ZERO = new GpuHours(0, 0, 0, 0);

    public GpuHours plus(GpuHours o) {
        return new GpuHours(contributed + o.contributed, used + o.used, lent + o.lent, borrowed + o.borrowed);
    }

    public GpuHours times(double hours) {
        return new GpuHours(contributed * hours, used * hours, lent * hours, borrowed * hours);
    }

    public boolean isZero() {
        return contributed == 0 && used == 0 && lent == 0 && borrowed == 0;
    }
}
