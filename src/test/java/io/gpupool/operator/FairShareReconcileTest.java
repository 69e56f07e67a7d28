package io.gpupool.operator;

import static io.gpupool.testing.PoolFixtures.gpuClass;
import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static io.gpupool.testing.PoolFixtures.namespace;
import static io.gpupool.testing.PoolFixtures.node;
import static io.gpupool.testing.PoolFixtures.organization;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import java.net.URL;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ClassUsage;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.status.Conditions;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;

/**
 * Three organizations contend for one GpuClass on the mock server: one that contributes nothing borrows idle GPUs,
 * then a contributor reclaims its nominal quota; statuses and Events tell the story.
 */
@QuarkusTest
@WithKubernetesTestServer
class FairShareReconcileTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    KubernetesClient client;

    @TestHTTPResource(value = "/metrics", management = true)
    URL metrics;

    private void contribute(String name, String org) {
        Node n = node("a100-80g-01", org);
        n.getMetadata().setName(name);
        n.getMetadata().getLabels().put("nvidia.com/gpu.product", "FAIRSHARE-TEST-GPU");
        client.resource(n).createOr(r -> r.update());
        await().atMost(WAIT).until(() -> client.resources(GpuNode.class).inNamespace("gpupool-cluster-local")
                .withName(name).get() != null);
    }

    private ModelDeployment md(String ns, String name, int replicas) {
        ModelDeployment md = modelDeployment(ns, name, replicas, 1);
        md.getSpec().gpu.classes = List.of("fs-gpu");
        return md;
    }

    private ModelDeployment awaitMd(String ns, String name, Predicate<ModelDeployment> ok) {
        try {
            await().atMost(WAIT).until(() -> {
                ModelDeployment m = client.resources(ModelDeployment.class).inNamespace(ns).withName(name).get();
                return m != null && m.getStatus() != null && m.getStatus().replicas != null && ok.test(m);
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("Timed out; the pool is now:\n" + io.fabric8.kubernetes.client.utils.Serialization
                    .asYaml(client.resources(ModelDeployment.class).inAnyNamespace().list().getItems().stream()
                            .filter(m -> m.getMetadata().getNamespace().startsWith("fs-")).map(m -> m.getStatus()).toList())
                    + io.fabric8.kubernetes.client.utils.Serialization.asYaml(client.resources(Organization.class)
                            .list().getItems().stream().filter(o -> o.getMetadata().getName().startsWith("fs-"))
                            .map(o -> o.getStatus()).toList()), e);
        }
        return client.resources(ModelDeployment.class).inNamespace(ns).withName(name).get();
    }

    private ClassUsage usage(String org) {
        Organization o = client.resources(Organization.class).withName(org).get();
        return o.getStatus().classes.stream().filter(c -> "fs-gpu".equals(c.gpuClass)).findFirst().orElseThrow();
    }

    @Test
    void aContributorReclaimsWhatABorrowerTook() {
        GpuPool pool = new GpuPool();
        pool.setMetadata(new ObjectMetaBuilder().withName("default").build());
        pool.setSpec(new io.gpupool.api.v1alpha1.GpuPoolSpec());
        pool.getSpec().fairShare.commonsReservePercent = 0;
        client.resource(pool).createOr(r -> r.update());
        client.resource(gpuClass("fs-gpu", 0, "FAIRSHARE-TEST-GPU")).createOr(r -> r.update());
        for (String org : List.of("fs-a", "fs-b", "fs-c")) {
            client.resource(organization(org, org)).createOr(r -> r.update());
            client.resource(namespace(org)).createOr(r -> r.update());
        }
        contribute("fs-node-a", "fs-a");
        contribute("fs-node-b", "fs-b");

        // fs-c contributes nothing: it borrows 6 of the 8 idle GPUs.
        client.resource(md("fs-c", "borrower", 6)).create();
        awaitMd("fs-c", "borrower", m -> m.getStatus().replicas.admitted == 6);
        // ignoreExceptions: the Organization's status may not be written yet (the status publisher runs after the cycle).
        await().atMost(WAIT).ignoreExceptions().untilAsserted(() -> assertThat(usage("fs-c").borrowed).isEqualTo(6));

        // fs-a wants its own 4 GPUs back: borrowed replicas are evicted, then its replicas are admitted.
        client.resource(md("fs-a", "owner", 4)).create();
        ModelDeployment owner = awaitMd("fs-a", "owner", m -> m.getStatus().replicas.admitted == 4);
        assertThat(owner.getStatus().placements).extracting(p -> p.node).containsOnly("fs-node-a", "fs-node-b");

        ModelDeployment borrower = awaitMd("fs-c", "borrower", m -> m.getStatus().replicas.admitted < 6);
        assertThat(Conditions.find(borrower.getStatus().conditions, Conditions.PREEMPTED)).hasValueSatisfying(
                c -> assertThat(c.getMessage()).contains("fs-a"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(client.v1().events().inNamespace("fs-c").list().getItems())
                .anySatisfy(e -> {
                    assertThat(e.getReason()).isEqualTo("Preempted");
                    assertThat(e.getInvolvedObject().getName()).isEqualTo("borrower");
                    assertThat(e.getMessage()).contains("fs-a");
                }));

        // No GPU is double-booked and the quotas add up.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(usage("fs-a").used).isEqualTo(4);
            assertThat(usage("fs-a").nominal).isEqualTo(4);
            int used = usage("fs-a").used + usage("fs-b").used + usage("fs-c").used;
            assertThat(used).isLessThanOrEqualTo(8);
            for (String node : List.of("fs-node-a", "fs-node-b")) {
                GpuNode n = client.resources(GpuNode.class).inNamespace("gpupool-cluster-local").withName(node).get();
                assertThat(n.getStatus().allocated).isLessThanOrEqualTo(4);
            }
        });

        // Kueue-like metrics tell the same story, and the chart's dashboard reads only metrics that exist.
        await().atMost(WAIT).untilAsserted(() -> {
            MetricsScrape scrape = MetricsScrape.of(metrics);
            assertThat(scrape.sum("gpupool_preempted_replicas_total", "preempting_organization", "fs-a", "reason",
                    "Reclamation")).isGreaterThanOrEqualTo(2);
            assertThat(scrape.sum("gpupool_evicted_replicas_total", "organization", "fs-c", "reason", "Preempted"))
                    .isGreaterThanOrEqualTo(2);
            assertThat(scrape.sum("gpupool_admitted_replicas_total", "organization", "fs-c")).isGreaterThanOrEqualTo(6);
            assertThat(scrape.sum("gpupool_admission_wait_time_seconds_count", "organization", "fs-a"))
                    .as(scrape.text("gpupool_")).isOne();
            assertThat(scrape.sum("gpupool_reclaim_duration_seconds_count", "organization", "fs-a"))
                    .as(scrape.text("gpupool_")).isOne();
            assertThat(scrape.has("gpupool_admission_wait_time_seconds_bucket", "organization", "fs-a", "le", "+Inf"))
                    .isTrue();
            assertThat(scrape.sum("gpupool_organization_weighted_share", "organization", "fs-c"))
                    .as("x 1000, an integer").isPositive().isEqualTo(Math.rint(scrape.sum(
                            "gpupool_organization_weighted_share", "organization", "fs-c")));
            assertThat(scrape.sum("gpupool_organization_gpu_hours_total", "organization", "fs-a", "kind",
                    "contributed")).as("the contributor ledger, read when scraped").isPositive();
            assertThat(scrape.has("gpupool_organization_gpu_hours_total", "organization", "fs-c", "kind", "borrowed"))
                    .as(scrape.text("gpupool_organization_gpu_hours")).isTrue();
            assertThat(scrape.sum("gpupool_build_info")).as(scrape.text("gpupool_build")).isOne();
            assertThat(scrape.has("operator_sdk_reconciliations_started_total", "kind", "ModelDeployment")
                    && scrape.has("operator_sdk_reconciliations_started_total", "kind", "Node", "group", "core"))
                    .as(scrape.text("operator_sdk_reconciliations_started")).isTrue();
            DashboardTest.assertEveryQueryNamesAnExportedMetric(scrape);
        });

        // A deleted organization's series go with it.
        client.resource(organization("fs-gone")).createOr(r -> r.update());
        await().atMost(WAIT).until(() -> MetricsScrape.of(metrics).has("gpupool_organization_weighted_share",
                "organization", "fs-gone"));
        client.resources(Organization.class).withName("fs-gone").delete();
        await().atMost(WAIT).until(() -> !MetricsScrape.of(metrics).text.contains("\"fs-gone\""));

        // The owner is done: the borrower gets all its replicas back, and its Preempted condition goes.
        client.resources(ModelDeployment.class).inNamespace("fs-a").withName("owner").delete();
        ModelDeployment whole = awaitMd("fs-c", "borrower", m -> m.getStatus().replicas.admitted == 6
                && Conditions.find(m.getStatus().conditions, Conditions.PREEMPTED).isEmpty());
        assertThat(Conditions.isTrue(whole.getStatus().conditions, Conditions.ADMITTED)).isTrue();
    }
}
