package io.gpupool.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationStatus;
import io.gpupool.api.v1alpha1.OrganizationUsage;
import io.gpupool.api.v1alpha1.OrganizationUsage.ModelUsage;

/** The gateway's tokens in the ledger: consumed by an organization's keys, served on its clusters, per UTC day. */
class TokensTest {

    private static final Instant T0 = Instant.parse("2026-06-01T22:00:00Z");

    private static Organization org(String name, long prompt, long completion, ModelUsage... models) {
        Organization o = new Organization();
        o.setMetadata(new ObjectMetaBuilder().withName(name).build());
        o.setStatus(new OrganizationStatus());
        OrganizationUsage u = new OrganizationUsage();
        u.promptTokens = prompt;
        u.completionTokens = completion;
        u.models = List.of(models);
        o.getStatus().usage = u;
        return o;
    }

    @Test
    void consumedIsAnOrganizationsOwnUsageServedIsWhatItsClustersAnswered() {
        // beta asks 100 + 50 tokens of acme's cluster and 30 + 20 of the pool's own; acme asks 10 + 5 of its own.
        List<Organization> orgs = List.of(
                org("beta", 130, 70, new ModelUsage("team/chat", "acme-lab", 3, 100, 50),
                        new ModelUsage("team/chat", "local", 2, 30, 20)),
                org("acme", 10, 5, new ModelUsage("acme/chat", "acme-lab", 1, 10, 5)),
                org("gamma", 0, 0));
        Map<String, Tokens> t = Tokens.fromUsage(orgs, Map.of("acme-lab", "acme", "gamma-lab", "gamma"));
        assertThat(t.get("beta")).isEqualTo(new Tokens(200, 0));
        assertThat(t.get("acme")).isEqualTo(new Tokens(15, 165));
        assertThat(t.get("gamma")).isEqualTo(Tokens.ZERO);
    }

    @Test
    void growthGoesToTheDayItIsSeenAndACheckpointContinuesWithoutCountingTwice() {
        ContributionLedger l = new ContributionLedger(31);
        l.observe(T0, Map.of("acme", Map.of()), Map.of(), 0);
        l.tokens("acme", T0, new Tokens(100, 10));
        l.tokens("acme", T0.plus(Duration.ofHours(1)), new Tokens(150, 10));   // 23:00, June 1st
        l.tokens("acme", T0.plus(Duration.ofHours(3)), new Tokens(400, 40));   // 01:00, June 2nd
        OrgLedger saved = l.checkpoint("acme");
        assertThat(saved.tokens()).isEqualTo(new Tokens(400, 40));
        assertThat(saved.tokenDays()).containsExactly(Map.entry(LocalDate.parse("2026-06-01"), new Tokens(150, 10)),
                Map.entry(LocalDate.parse("2026-06-02"), new Tokens(250, 30)));

        // Through the Organization's status and back, as after a restart: only what grew since counts.
        ContributionLedger next = new ContributionLedger(31);
        next.restore("acme", LedgerStatus.fromStatus(LedgerStatus.toStatus(saved, Map.of(), false)));
        next.tokens("acme", T0.plus(Duration.ofHours(4)), new Tokens(450, 40));
        assertThat(next.checkpoint("acme").tokenDays().get(LocalDate.parse("2026-06-02")))
                .isEqualTo(new Tokens(300, 30));

        // Totals that went down (reports removed) are the new baseline, not negative tokens.
        next.tokens("acme", T0.plus(Duration.ofHours(5)), new Tokens(20, 40));
        next.tokens("acme", T0.plus(Duration.ofHours(6)), new Tokens(25, 40));
        assertThat(next.checkpoint("acme").tokenDays().get(LocalDate.parse("2026-06-02")))
                .isEqualTo(new Tokens(305, 30));
        assertThat(next.checkpoint("acme").tokens()).isEqualTo(new Tokens(25, 40));
    }

    @Test
    void theExportHasADayRowWithTheTokens() {
        ContributionLedger l = new ContributionLedger(31);
        l.observe(T0, Map.of("acme", Map.of("a100", new GpuHours(8, 2, 0, 0))), Map.of(), 0);
        l.tokens("acme", T0, new Tokens(0, 0));
        l.advanceTo(T0.plus(Duration.ofMinutes(30)));
        l.tokens("acme", T0.plus(Duration.ofMinutes(30)), new Tokens(1200, 300));
        Organization acme = org("acme", 0, 0);
        acme.getStatus().ledger = LedgerStatus.toStatus(l.checkpoint("acme"), Map.of("a100", 1.0), false);
        assertThat(acme.getStatus().ledger.tokensConsumed).isEqualTo(1200);
        assertThat(LedgerExport.csv(List.of(acme))).isEqualTo("""
                organization,day,gpu_class,contributed_gpu_hours,used_gpu_hours,lent_gpu_hours,borrowed_gpu_hours,\
                tokens_consumed,tokens_served
                acme,2026-06-01,a100,4.000000,1.000000,0.000000,0.000000,,
                acme,2026-06-01,,,,,,1200,300
                """);
        assertThat(LedgerExport.json(List.of(acme))).contains("\"tokens_consumed\":1200", "\"tokens_served\":null");
    }
}
