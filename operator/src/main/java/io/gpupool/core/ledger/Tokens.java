package io.gpupool.core.ledger;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationUsage;

/**
 * Tokens the pool's gateway metered for an organization (prompt and completion tokens alike): a total since the
 * gateway's reports began, or what one UTC day added to it.
 *
 * @param consumed tokens of requests made with the organization's ApiKeys
 * @param served   tokens of requests answered by replicas on the organization's contributed clusters
 */
public record Tokens(long consumed, long served) {

    public static final Tokens ZERO = new Tokens(0, 0);

    public Tokens plus(Tokens o) {
        return new Tokens(consumed + o.consumed, served + o.served);
    }

    /**
     * What this total added to an earlier one. A total that went down (the reports it is folded from were removed)
     * adds nothing: it is the new baseline.
     */
    public Tokens since(Tokens earlier) {
        return new Tokens(Math.max(0, consumed - earlier.consumed), Math.max(0, served - earlier.served));
    }

    /**
     * Every organization's totals from the Organizations' {@code status.usage} (the gateway's reports, folded by the
     * operator): consumed = the tokens of its own usage; served = the tokens of everyone's usage answered by a cluster
     * it contributes. The pool's own cluster serves for nobody in particular.
     *
     * @param clusterOrganizations each contributed cluster's organization
     */
    public static Map<String, Tokens> fromUsage(List<Organization> organizations,
            Map<String, String> clusterOrganizations) {
        Map<String, Tokens> out = new TreeMap<>();
        for (Organization org : organizations) {
            OrganizationUsage u = org.getStatus() == null ? null : org.getStatus().usage;
            if (u == null) {
                continue;
            }
            out.merge(org.getMetadata().getName(), new Tokens(u.promptTokens + u.completionTokens, 0), Tokens::plus);
            for (OrganizationUsage.ModelUsage m : u.models == null ? List.<OrganizationUsage.ModelUsage> of()
                    : u.models) {
                String contributor = m == null || m.cluster == null ? null : clusterOrganizations.get(m.cluster);
                if (contributor != null) {
                    out.merge(contributor, new Tokens(0, m.promptTokens + m.completionTokens), Tokens::plus);
                }
            }
        }
        return out;
    }

    public boolean isZero() {
        return consumed == 0 && served == 0;
    }
}
