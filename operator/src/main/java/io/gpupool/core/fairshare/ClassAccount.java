package io.gpupool.core.fairshare;

/**
 * One organization's GPUs of one GpuClass, as the Organization status ({@code ClassUsage}) and the gauges show them.
 *
 * @param contributed GPUs of its SCHEDULABLE nodes of this class
 * @param nominal     GPUs it is guaranteed (spec quota plus, when contribution-weighted, its contribution less the
 *                    commons reserve)
 * @param used        GPUs its replicas hold, running or still stopping (draining), shared ones included
 * @param borrowed    GPUs its running replicas use beyond its nominal quota:
 *                    {@code max(0, used - draining - fromCommons - nominal)}
 * @param lent        GPUs of its unused nominal quota that borrowers use (see docs/fair-share.md for the attribution)
 * @param pending     GPUs its waiting replicas ask for that this class could serve; a replica that accepts several
 *                    classes is counted in each of them
 * @param draining    part of {@code used} held by replicas that are stopping
 * @param fromCommons part of {@code used} that the commons carries for its running shared ModelDeployments
 */
public record ClassAccount(String gpuClass, int contributed, int nominal, int used, int borrowed, int lent, int pending,
        int draining, int fromCommons) {
}
