package io.gpupool.core.inventory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

import io.gpupool.api.v1alpha1.Organization;

/**
 * Which organization a namespace belongs to: the one whose {@code spec.namespaces} lists it. Organizations are
 * cluster-scoped objects only pool admins write, so nothing a tenant can write (a namespace label, an annotation, a
 * field of a ModelDeployment) moves a namespace into an organization. A namespace listed by two or more organizations
 * belongs to none of them until an admin settles it, so that neither can take the other's quota by claiming it.
 *
 * <p>This is the one definition of membership: the operator (ModelDeployments), the gateway (API keys) and anything
 * else that asks "whose is namespace X" call {@link #organizationOf} on a Membership built from the current
 * Organizations, and never decide it themselves.
 */
public final class Membership {

    /** A namespace and the organizations that list it, sorted; one entry means it belongs to that one. */
    private final Map<String, List<String>> claims;

    private Membership(Map<String, List<String>> claims) {
        this.claims = claims;
    }

    /** Membership as the given Organizations define it (objects being deleted still count until they are gone). */
    public static Membership of(Collection<Organization> organizations) {
        Map<String, TreeSet<String>> claims = new TreeMap<>();
        for (Organization org : organizations) {
            if (org == null || org.getMetadata() == null || org.getSpec() == null || org.getSpec().namespaces == null) {
                continue;
            }
            for (String ns : org.getSpec().namespaces) {
                if (ns != null && !ns.isBlank()) {
                    claims.computeIfAbsent(ns, k -> new TreeSet<>()).add(org.getMetadata().getName());
                }
            }
        }
        Map<String, List<String>> out = new TreeMap<>();
        claims.forEach((ns, orgs) -> out.put(ns, List.copyOf(orgs)));
        return new Membership(out);
    }

    /** The organization a namespace belongs to; empty when no organization, or more than one, lists it. */
    public Optional<String> organizationOf(String namespace) {
        List<String> orgs = claims.getOrDefault(namespace, List.of());
        return orgs.size() == 1 ? Optional.of(orgs.get(0)) : Optional.empty();
    }

    /** The organizations that list a namespace, sorted (empty, one owner, or a contest). */
    public List<String> claimants(String namespace) {
        return claims.getOrDefault(namespace, List.of());
    }

    /** Namespaces an organization lists that another organization lists too, sorted. */
    public List<String> contestedBy(String organization) {
        List<String> out = new ArrayList<>();
        claims.forEach((ns, orgs) -> {
            if (orgs.size() > 1 && orgs.contains(organization)) {
                out.add(ns);
            }
        });
        return out;
    }

    /** Number of namespaces each organization owns (listed by it alone). */
    public Map<String, Integer> memberNamespaces() {
        Map<String, Integer> out = new TreeMap<>();
        claims.values().forEach(orgs -> {
            if (orgs.size() == 1) {
                out.merge(orgs.get(0), 1, Integer::sum);
            }
        });
        return out;
    }

    /**
     * Why a namespace belongs to no organization, as a sentence for a condition: nobody lists it, or several do.
     * Empty when it belongs to one.
     */
    public Optional<String> whyNoOrganization(String namespace) {
        List<String> orgs = claimants(namespace);
        if (orgs.size() == 1) {
            return Optional.empty();
        }
        if (orgs.isEmpty()) {
            return Optional.of("Namespace '" + namespace + "' belongs to no organization: no Organization lists it in "
                    + "spec.namespaces. Ask a pool admin to add it to your organization's.");
        }
        return Optional.of("Namespace '" + namespace + "' is listed in spec.namespaces of organizations "
                + String.join(" and ", orgs) + ", so it belongs to neither until a pool admin removes it from all but "
                + "one.");
    }
}
