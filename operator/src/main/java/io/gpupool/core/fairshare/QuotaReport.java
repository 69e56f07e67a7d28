package io.gpupool.core.fairshare;

import java.util.List;

/** Quota usage of every organization and class after one admission cycle. */
public record QuotaReport(List<OrgAccount> organizations, List<ClassPool> classes) {

    /** The account of an organization, or null when the snapshot does not know it. */
    public OrgAccount organization(String name) {
        for (OrgAccount o : organizations) {
            if (o.organization().equals(name)) {
                return o;
            }
        }
        return null;
    }

    /** The pool-wide figures of a class, or null when the pool has no such class. */
    public ClassPool gpuClass(String name) {
        for (ClassPool c : classes) {
            if (c.gpuClass().equals(name)) {
                return c;
            }
        }
        return null;
    }
}
