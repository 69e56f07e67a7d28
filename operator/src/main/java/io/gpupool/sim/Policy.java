package io.gpupool.sim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.gpupool.core.admission.AdmissionEngine;
import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.core.admission.FirstComeAdmission;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolPolicy;

/** The admission policies the simulator compares, and how each turns the pool into Organizations' quotas. */
public enum Policy {
    /** FirstComeAdmission: no quotas, oldest first. */
    FIFO("fifo", "FIFO (first come)"),
    /** Static mode; nominal = what an organization contributes; borrowingLimit 0 for every class. */
    STATIC("static", "static quotas, no borrowing"),
    /** Static mode; nominal = what an organization contributes; unlimited borrowing; reclaim on. */
    FAIR_SHARE("fair", "fair share + borrowing"),
    /** ContributionWeighted mode, 10 % commons reserve, no spec quotas; reclaim on. */
    CONTRIBUTION("contribution", "contribution-weighted"),
    /**
     * CONTRIBUTION with fairness with memory: a usage half-life of {@value #HALF_LIFE_HOURS} h and a minimum run time of
     * {@value #MINIMUM_RUN_SECONDS} s before a replica may be preempted.
     */
    MEMORY("memory", "contribution-weighted + memory");

    static final double HALF_LIFE_HOURS = 1.0;
    static final long MINIMUM_RUN_SECONDS = 600;

    final String key;
    final String label;

    Policy(String key, String label) {
        this.key = key;
        this.label = label;
    }

    static Policy parse(String key) {
        for (Policy p : values()) {
            if (p.key.equalsIgnoreCase(key.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown policy '" + key + "' (fifo, static, fair, contribution, memory)");
    }

    AdmissionEngine engine() {
        return this == FIFO ? new FirstComeAdmission() : new FairShareAdmission();
    }

    PoolPolicy poolPolicy() {
        return switch (this) {
            case CONTRIBUTION -> new PoolPolicy(true, 10, true);
            case MEMORY -> new PoolPolicy(true, 10, true, HALF_LIFE_HOURS);
            default -> new PoolPolicy(false, 0, true);
        };
    }

    /** Seconds a replica runs before it may be preempted. */
    long minimumRunSeconds() {
        return this == MEMORY ? MINIMUM_RUN_SECONDS : 0;
    }

    /** The Organizations' quotas given the current nodes; {@code orgs} are all organizations known so far. */
    List<OrgQuota> quotas(Set<String> orgs, List<PoolNode> nodes, Set<String> classNames) {
        List<OrgQuota> out = new ArrayList<>();
        if (this == FIFO || this == CONTRIBUTION || this == MEMORY) {
            for (String o : orgs) {
                out.add(OrgQuota.unlimited(o));
            }
            return out;
        }
        Map<String, Map<String, Integer>> contributed = new HashMap<>();
        for (PoolNode n : nodes) {
            if (n.state() == NodeState.SCHEDULABLE && n.gpuClass() != null) {
                contributed.computeIfAbsent(n.organization(), k -> new HashMap<>()).merge(n.gpuClass(), n.gpus(),
                        Integer::sum);
            }
        }
        Map<String, Integer> zero = new HashMap<>();
        for (String c : classNames) {
            zero.put(c, 0);
        }
        for (String o : orgs) {
            Map<String, Integer> nominal = contributed.getOrDefault(o, Map.of());
            out.add(new OrgQuota(o, 1.0, nominal, this == STATIC ? zero : Map.of(), Map.of()));
        }
        return out;
    }
}
