package io.gpupool.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The Grafana dashboard the operator chart ships (charts/gpupool-operator/dashboards/gpupool.json). Its queries must
 * name metrics that exist: the operator's are checked against a real scrape in FairShareReconcileTest (after a reclaim,
 * so that every counter and histogram has a series); the engines' against the names their pinned versions export.
 */
class DashboardTest {

    static final Path DASHBOARD = Path.of("charts/gpupool-operator/dashboards/gpupool.json");

    /**
     * What the serving engines export on /metrics at the versions inference-image pins (vLLM v0.11.0, llama.cpp
     * b11206 with --metrics), as far as the dashboard and the drain hook use them.
     */
    static final Set<String> ENGINE_METRICS = Set.of(
            "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
            "vllm:generation_tokens_total", "vllm:prompt_tokens_total", "vllm:time_to_first_token_seconds_bucket",
            "vllm:e2e_request_latency_seconds_bucket",
            "llamacpp:requests_processing", "llamacpp:requests_deferred", "llamacpp:tokens_predicted_total",
            "llamacpp:prompt_tokens_total");

    private static final Set<String> PROMQL_WORDS = Set.of("sum", "min", "max", "avg", "count", "by", "without", "rate",
            "irate", "increase", "histogram_quantile", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "offset", "bool", "topk", "bottomk", "clamp_min", "clamp_max", "abs", "time", "vector", "scalar",
            "label_replace", "delta", "deriv", "avg_over_time", "max_over_time", "min_over_time", "sum_over_time");

    static JsonNode dashboard() {
        try {
            return new ObjectMapper().readTree(Files.readString(DASHBOARD));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> queries() {
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : dashboard().path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                exprs.add(target.path("expr").asText());
            }
        }
        return exprs;
    }

    /** The metric names a PromQL expression reads. */
    static Set<String> metricNames(String expr) {
        String e = expr.replaceAll("\"[^\"]*\"", "\"\"")        // label values
                .replaceAll("\\{[^}]*\\}", " ")                    // label matchers
                .replaceAll("\\[[^]]*\\]", " ")                    // ranges
                .replaceAll("\\b(by|without|on|ignoring)\\s*\\([^)]*\\)", " "); // grouping labels
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*").matcher(e);
        while (m.find()) {
            if (!PROMQL_WORDS.contains(m.group())) {
                names.add(m.group());
            }
        }
        return names;
    }

    static void assertEveryQueryNamesAnExportedMetric(MetricsScrape operator) {
        Set<String> exported = new TreeSet<>(operator.names());
        exported.addAll(ENGINE_METRICS);
        for (String expr : queries()) {
            assertThat(metricNames(expr)).as("metrics of the dashboard query %s", expr).isNotEmpty()
                    .allSatisfy(name -> assertThat(exported).as("exported metrics").contains(name));
        }
    }

    @Test
    void everyPanelQueriesPrometheusThroughTheDatasourceVariable() {
        JsonNode d = dashboard();
        assertThat(d.path("uid").asText()).isEqualTo("gpupool-pool");
        assertThat(d.path("templating").path("list").get(0).path("name").asText()).isEqualTo("datasource");
        int panels = 0;
        for (JsonNode panel : d.path("panels")) {
            if (panel.path("type").asText().equals("row")) {
                continue;
            }
            panels++;
            assertThat(panel.path("targets").size()).as(panel.path("title").asText()).isPositive();
            assertThat(panel.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
        }
        assertThat(panels).isGreaterThanOrEqualTo(15);
        assertThat(metricNames("histogram_quantile(0.9, sum by (le, organization) (rate("
                + "gpupool_reclaim_duration_seconds_bucket{organization=\"a\"}[$__rate_interval])))"))
                .containsExactly("gpupool_reclaim_duration_seconds_bucket");
        assertThat(metricNames("sum(vllm:num_requests_running + vllm:num_requests_waiting)"))
                .containsExactly("vllm:num_requests_running", "vllm:num_requests_waiting");
    }

    @Test
    void theDrainHookReadsEngineMetricsTheDashboardKnows() throws IOException {
        String drain = Files.readString(Path.of("inference-image/drain.sh"));
        for (String name : List.of("vllm:num_requests_running", "vllm:num_requests_waiting",
                "llamacpp:requests_processing", "llamacpp:requests_deferred")) {
            assertThat(drain).contains(name);
            assertThat(ENGINE_METRICS).contains(name);
        }
    }
}
