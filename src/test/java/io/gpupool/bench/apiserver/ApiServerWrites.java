package io.gpupool.bench.apiserver;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The API server's own count of write requests (apiserver_request_total of its /metrics, every client included), per
 * verb and resource: where the writes of a scenario went.
 */
final class ApiServerWrites {

    private static final Pattern SAMPLE = Pattern.compile("^apiserver_request_total\\{(.*)\\} (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private ApiServerWrites() {
    }

    /** "VERB resource[/subresource]" → requests so far, for every verb that writes. */
    static Map<String, Double> snapshot(KubernetesClient client) {
        Map<String, Double> out = new TreeMap<>();
        String metrics = client.raw("/metrics");
        if (metrics == null) {
            return out;
        }
        for (String line : metrics.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new TreeMap<>();
            Matcher l = LABEL.matcher(m.group(1));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            String verb = labels.getOrDefault("verb", "");
            if (verb.equals("GET") || verb.equals("LIST") || verb.equals("WATCH") || verb.equals("WATCHLIST")
                    || verb.equals("CONNECT")) {
                continue;
            }
            String sub = labels.getOrDefault("subresource", "");
            String key = verb + " " + labels.getOrDefault("resource", "?") + (sub.isEmpty() ? "" : "/" + sub);
            out.merge(key, Double.parseDouble(m.group(2)), Double::sum);
        }
        return out;
    }

    static Map<String, Double> minus(Map<String, Double> after, Map<String, Double> before) {
        Map<String, Double> out = new TreeMap<>();
        after.forEach((k, v) -> {
            double d = v - before.getOrDefault(k, 0.0);
            if (d > 0) {
                out.put(k, d);
            }
        });
        return out;
    }
}
