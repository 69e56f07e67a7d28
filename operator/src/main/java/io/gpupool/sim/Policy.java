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
    CONTRIBUTION("contribution", "contribution-weighted");

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
        throw new IllegalArgumentException("unknown policy '" + key + "' (fifo, static, fair, contribution)");
    }

    AdmissionEngine engine() {
        return this == FIFO ? new FirstComeAdmission() : new FairShareAdmission();
    }

    PoolPolicy poolPolicy() {
        return this == CONTRIBUTION ? new PoolPolicy(true, 10, true) : new PoolPolicy(false, 0, true);
    }

    /** The Organizations' quotas given the current nodes; {@code orgs} are all organizations known so far. */
    List<OrgQuota> quotas(Set<String> orgs, List<PoolNode> nodes, Set<String> classNames) {
        List<OrgQuota> out = new ArrayList<>();
        if (this == FIFO || this == CONTRIBUTION) {
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
