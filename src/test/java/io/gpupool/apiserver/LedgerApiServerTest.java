package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.gpupool.api.v1alpha1.LedgerClass;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationLedger;
import io.gpupool.core.ledger.LedgerExport;
import io.gpupool.testing.ManualClock;
import io.gpupool.testing.PoolFixtures;

/**
 * The contributor ledger on a real API server, on an injected clock: checkpointed into the Organization's status,
 * continued by a new operator after a restart in the middle of a period without losing or counting twice the time in
 * between, exported per day, and out of tenants' reach.
 */
@ApiServerTier
class LedgerApiServerTest {

    private static final String NS = "ledger-team";
    private static final String ORG = "ledger-org";
    private static final String TENANT = "alice";
    private static final Instant T0 = Instant.parse("2026-06-01T08:00:00Z");

    private static KubernetesClient admin;
    private static TestPool pool;
    private static InProcessOperator operator;
    private static OrganizationLedgers ledgers;

    @BeforeAll
    static void setUp(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        pool = new TestPool(admin).member(NS, ORG).gpuClass("ledger-l4", 20000, "NVIDIA-L4");
        ledgers = new OrganizationLedgers(admin, ORG);
    }

    @AfterAll
    static void tearDown() {
        TestPool.tearDown(pool, operator);
    }

    private static LedgerClass l4(OrganizationLedger l) {
        return OrganizationLedgers.ofClass(l, "ledger-l4");
    }

    @Test
    void aRestartInTheMiddleOfAPeriodNeitherLosesNorCountsTwice() throws Exception {
        ManualClock clock = new ManualClock(T0);
        operator = InProcessOperator.start(admin, clock);
        pool.contribute("l4-01", ORG);
        ModelDeployment md = PoolFixtures.modelDeployment(NS, "chat", 1, 1);
        md.getSpec().gpu.classes = List.of("ledger-l4");
        md.getSpec().model.maxContextLength = 4096;
        admin.resource(md).fieldManager("kubectl").serverSideApply();
        ledgers.awaitUsedGpus(1);
        assertThat(ledgers.now().since).isEqualTo(T0.toString());

        // Half an hour later the operator checkpoints, and a quarter of an hour after that it stops.
        clock.advance(Duration.ofMinutes(30));
        ledgers.touch("half an hour");
        OrganizationLedger first = ledgers.awaitCheckpoint(T0.plus(Duration.ofMinutes(30)));
        assertThat(l4(first).usedGpuHours).isCloseTo(0.5, within(1e-9));
        assertThat(l4(first).contributedGpuHours).isCloseTo(0.5 * l4(first).contributedGpus, within(1e-9));
        clock.advance(Duration.ofMinutes(15));
        operator.close();

        // The next operator starts an hour after T0 and takes over from the checkpoint.
        clock.set(T0.plus(Duration.ofMinutes(60)));
        operator = InProcessOperator.start(admin, clock);
        clock.set(T0.plus(Duration.ofMinutes(90)));
        ledgers.touch("an hour and a half");
        OrganizationLedger after = ledgers.awaitCheckpoint(T0.plus(Duration.ofMinutes(90)));
        assertThat(l4(after).usedGpuHours).as("1 GPU for 1.5 hours, once").isCloseTo(1.5, within(1e-9));
        assertThat(l4(after).contributedGpuHours).isCloseTo(1.5 * l4(after).contributedGpus, within(1e-9));
        assertThat(after.since).isEqualTo(T0.toString());
        assertThat(after.usedGpuHours).isEqualTo(1.5); // GpuClass value 1
        assertThat(after.balanceGpuHours).isCloseTo(after.contributedGpuHours - 1.5, within(0.01));
        assertThat(after.days).singleElement().satisfies(d -> assertThat(d.day).isEqualTo("2026-06-01"));

        // kubectl get organizations: the server's table has the ledger's columns.
        Map<String, Object> row = tableRow();
        assertThat(row).containsEntry("Used GPU-h", 1.5).containsKeys("Contributed GPU-h", "Balance GPU-h");

        // The per-day export for audit.
        String csv = LedgerExport.csv(admin.resources(Organization.class).list().getItems());
        assertThat(csv).contains(ORG + ",2026-06-01,ledger-l4,").contains(",1.500000,");
    }

    /** The Organization as {@code kubectl get organizations} shows it: the server's Table, column name to cell. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> tableRow() throws Exception {
        HttpClient http = admin.getHttpClient();
        HttpRequest request = http.newHttpRequestBuilder()
                .uri(URI.create(admin.getConfiguration().getMasterUrl()).resolve(
                        "/apis/gpupool.io/v1alpha1/organizations/" + ORG))
                .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").build();
        Map<String, Object> table = new ObjectMapper().readValue(
                http.sendAsync(request, String.class).get(30, TimeUnit.SECONDS).body(), Map.class);
        List<Map<String, Object>> columns = (List<Map<String, Object>>) table.get("columnDefinitions");
        List<Object> cells = (List<Object>) ((List<Map<String, Object>>) table.get("rows")).get(0).get("cells");
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 0; i < columns.size(); i++) {
            row.put((String) columns.get(i).get("name"), cells.get(i));
        }
        return row;
    }

    @Test
    void tenantsCannotWriteTheLedger(RealKubeApiServer.Server server) {
        // A tenant may do anything in its own namespace (this API server runs no controller that would aggregate the
        // built-in admin ClusterRole, so the test spells it out as a Role).
        admin.resource(new RoleBuilder().withNewMetadata().withName("tenant-admin").withNamespace(NS).endMetadata()
                .addNewRule().withApiGroups("*").withResources("*").withVerbs("*").endRule().build())
                .createOr(r -> r.update());
        admin.resource(new RoleBindingBuilder().withNewMetadata().withName("alice-admin").withNamespace(NS)
                .endMetadata().withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role")
                .withName("tenant-admin").endRoleRef().addNewSubject().withApiGroup("rbac.authorization.k8s.io")
                .withKind("User").withName(TENANT).endSubject().build()).createOr(r -> r.update());
        try (KubernetesClient tenant = server.impersonating(TENANT, "system:authenticated")) {
            List<String> allowed = new ArrayList<>();
            Forbidden.orAllowed(allowed, "write an Organization's status", () -> tenant.resources(Organization.class)
                    .withName(ORG).subresource("status").patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                            io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                            "{\"status\":{\"ledger\":{\"usedGpuHours\":0}}}"));
            Forbidden.orAllowed(allowed, "edit an Organization", () -> tenant.resources(Organization.class)
                    .withName(ORG).edit(o -> o));
            Forbidden.orAllowed(allowed, "create an Organization", () -> tenant.resource(
                    PoolFixtures.organization("mine")).create());
            assertThat(allowed).as("requests a tenant should be refused but was allowed").isEmpty();
            // And its own namespace's objects are still its own: the binding works.
            assertThat(tenant.configMaps().inNamespace(NS).list()).isNotNull();
        }
    }
}
