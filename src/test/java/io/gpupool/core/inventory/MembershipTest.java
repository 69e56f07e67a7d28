package io.gpupool.core.inventory;

import static io.gpupool.testing.PoolFixtures.organization;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.gpupool.api.v1alpha1.Organization;

/** Which organization a namespace belongs to: the one Organization that lists it, never anything else. */
class MembershipTest {

    @Test
    void aNamespaceBelongsToTheOneOrganizationThatListsIt() {
        Membership m = Membership.of(List.of(organization("uni-nlp", "nlp", "nlp-dev"), organization("open-lab", "lab")));
        assertThat(m.organizationOf("nlp")).contains("uni-nlp");
        assertThat(m.organizationOf("nlp-dev")).contains("uni-nlp");
        assertThat(m.organizationOf("lab")).contains("open-lab");
        assertThat(m.organizationOf("elsewhere")).isEmpty();
        assertThat(m.whyNoOrganization("nlp")).isEmpty();
        assertThat(m.whyNoOrganization("elsewhere").orElseThrow()).contains("no Organization lists it");
        assertThat(m.memberNamespaces()).isEqualTo(Map.of("uni-nlp", 2, "open-lab", 1));
    }

    @Test
    void aNamespaceListedByTwoOrganizationsBelongsToNeither() {
        Membership m = Membership.of(List.of(organization("uni-nlp", "nlp", "shared"),
                organization("home-collective", "shared", "home")));
        assertThat(m.organizationOf("shared")).isEmpty();
        assertThat(m.claimants("shared")).containsExactly("home-collective", "uni-nlp");
        assertThat(m.whyNoOrganization("shared").orElseThrow()).contains("home-collective and uni-nlp");
        assertThat(m.contestedBy("uni-nlp")).containsExactly("shared");
        assertThat(m.contestedBy("home-collective")).containsExactly("shared");
        // Neither counts it: claiming someone's namespace takes nothing from them and gives nothing to the claimant.
        assertThat(m.memberNamespaces()).isEqualTo(Map.of("uni-nlp", 1, "home-collective", 1));
        assertThat(m.organizationOf("nlp")).contains("uni-nlp");
    }

    @Test
    void nothingButSpecNamespacesMakesAMember() {
        Organization empty = organization("quiet");
        empty.getSpec().namespaces = null;
        Organization noSpec = new Organization();
        noSpec.setMetadata(organization("x").getMetadata());
        noSpec.setSpec(null);
        Membership m = Membership.of(List.of(empty, noSpec));
        // An organization's own name is no claim on a namespace of that name.
        assertThat(m.organizationOf("quiet")).isEmpty();
        assertThat(m.organizationOf("x")).isEmpty();
        assertThat(m.memberNamespaces()).isEmpty();
    }
}
