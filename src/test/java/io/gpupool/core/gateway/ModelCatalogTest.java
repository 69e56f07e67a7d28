package io.gpupool.core.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.testing.PoolFixtures;

/** Served names, who holds a contested one, who may call what. */
class ModelCatalogTest {

    /** alpha owns a-ns; beta owns b-ns and may share its models. */
    private static final List<Organization> ORGANIZATIONS = List.of(PoolFixtures.organization("alpha", "a-ns"),
            sharing(PoolFixtures.organization("beta", "b-ns")));

    private static Organization sharing(Organization org) {
        org.getSpec().allowSharedDeployments = true;
        return org;
    }

    private static ModelDeployment md(String ns, String name, String served, boolean shared, String created) {
        ModelDeployment md = PoolFixtures.modelDeployment(ns, name, 1, 1);
        md.getSpec().servedModelName = served;
        md.getSpec().shared = shared;
        md.getMetadata().setCreationTimestamp(created);
        return md;
    }

    @Test
    void namesDefaultToNamespaceSlashNameAndTheOldestClaimantHoldsATakenOne() {
        ModelDeployment older = md("b-ns", "llama", "llama", false, "2026-01-01T00:00:00Z");
        ModelDeployment newer = md("a-ns", "llama2", "llama", true, "2026-01-02T00:00:00Z");
        ModelDeployment plain = md("a-ns", "coder", null, false, "2026-01-03T00:00:00Z");
        ModelCatalog catalog = ModelCatalog.of(List.of(newer, older, plain), ORGANIZATIONS);

        assertThat(ModelCatalog.servedName(plain)).isEqualTo("a-ns/coder");
        assertThat(catalog.byServedName("llama").orElseThrow().namespace()).isEqualTo("b-ns");
        assertThat(catalog.byId("a-ns", "llama2")).isEmpty();
        assertThat(ModelCatalog.holder(List.of(newer, older)).orElseThrow()).isSameAs(older);
        // One being deleted claims nothing.
        older.getMetadata().setDeletionTimestamp("2026-01-05T00:00:00Z");
        assertThat(ModelCatalog.holder(List.of(newer, older)).orElseThrow()).isSameAs(newer);
    }

    @Test
    void anOrganizationCallsItsOwnModelsAndSharedOnes() {
        ModelDeployment own = md("a-ns", "mine", null, false, "2026-01-01T00:00:00Z");
        ModelDeployment theirs = md("b-ns", "theirs", null, false, "2026-01-01T00:00:00Z");
        ModelDeployment common = md("b-ns", "common", null, true, "2026-01-01T00:00:00Z");
        ModelCatalog catalog = ModelCatalog.of(List.of(own, theirs, common), ORGANIZATIONS);
        assertThat(catalog.visibleTo("alpha")).extracting(ModelCatalog.Model::servedName)
                .containsExactly("a-ns/mine", "b-ns/common");
        assertThat(catalog.lookup("b-ns/theirs", "alpha")).isInstanceOf(ModelCatalog.Forbidden.class);
        assertThat(catalog.lookup("nothing", "alpha")).isInstanceOf(ModelCatalog.NotFound.class);
        assertThat(catalog.lookup("b-ns/common", "alpha")).isInstanceOf(ModelCatalog.Found.class);
        // spec.shared without the pool's consent is a wish: the model stays its organization's own.
        ModelDeployment wish = md("a-ns", "wish", null, true, "2026-01-01T00:00:00Z");
        ModelCatalog refused = ModelCatalog.of(List.of(wish), ORGANIZATIONS);
        assertThat(refused.lookup("a-ns/wish", "beta")).isInstanceOf(ModelCatalog.Forbidden.class);
        assertThat(refused.lookup("a-ns/wish", "alpha")).isInstanceOf(ModelCatalog.Found.class);
        // A namespace listed by no organization: its models are nobody's, callable by none but as shared.
        ModelCatalog orphan = ModelCatalog.of(List.of(md("c-ns", "x", null, false, "2026-01-01T00:00:00Z")),
                ORGANIZATIONS);
        assertThat(orphan.lookup("c-ns/x", "alpha")).isInstanceOf(ModelCatalog.Forbidden.class);
        assertThat(catalog.byServedName("a-ns/mine").orElseThrow().maxInFlightPerReplica())
                .isEqualTo(ModelCatalog.DEFAULT_MAX_IN_FLIGHT_VLLM);
    }

    @Test
    void keysAreRandomRecognisableAndStoredAsHashes() {
        var random = new java.security.SecureRandom();
        String a = ApiKeys.generate(random);
        String b = ApiKeys.generate(random);
        assertThat(a).startsWith("gpk_").hasSize(4 + 43).isNotEqualTo(b);
        assertThat(ApiKeys.hash(a)).startsWith("sha256:").hasSize(7 + 64).isEqualTo(ApiKeys.hash(a));
        assertThat(ApiKeys.visiblePrefix(a)).hasSize(15).doesNotContain(a.substring(12));
        assertThat(ApiKeys.bearer("Bearer " + a)).hasValue(a);
        assertThat(ApiKeys.bearer("bearer  " + a + " ")).hasValue(a);
        assertThat(ApiKeys.bearer("Basic xyz")).isEmpty();
        assertThat(ApiKeys.bearer(null)).isEmpty();
    }
}
