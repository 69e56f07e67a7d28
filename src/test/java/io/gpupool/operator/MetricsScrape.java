package io.gpupool.operator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One scrape of the operator's Prometheus endpoint, as Prometheus reads it: series and their values. */
final class MetricsScrape {

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})?\\s+(\\S+)");

    final String text;
    /** Series (name with its labels as printed) to value. */
    final Map<String, Double> series = new LinkedHashMap<>();

    private MetricsScrape(String text) {
        this.text = text;
        for (String line : text.lines().toList()) {
            Matcher m = SAMPLE.matcher(line);
            if (!line.startsWith("#") && m.find()) {
                series.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
            }
        }
    }

    /**
     * @param url the management interface's /metrics as {@code @TestHTTPResource(management = true)} gives it; that
     *            puts it under the management root path (/q), the application serves it at /metrics
     */
    static MetricsScrape of(URL url) {
        url = toUrl(url.toString().replace("/q/metrics", "/metrics"));
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url.toString()))
                    .header("Accept", "text/plain").build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("GET " + url + " answered " + r.statusCode());
            }
            return new MetricsScrape(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static URL toUrl(String s) {
        try {
            return URI.create(s).toURL();
        } catch (java.net.MalformedURLException e) {
            throw new IllegalArgumentException(s, e);
        }
    }

    /** The lines of the scrape that start with a prefix, for assertion messages. */
    String text(String prefix) {
        return String.join("\n", text.lines().filter(l -> l.startsWith(prefix)).toList());
    }

    Set<String> names() {
        Set<String> names = new TreeSet<>();
        series.keySet().forEach(s -> names.add(s.contains("{") ? s.substring(0, s.indexOf('{')) : s));
        return names;
    }

    /** The sum over the series of a metric whose labels include all the given name="value" pairs. */
    double sum(String name, String... labels) {
        double total = 0;
        for (Map.Entry<String, Double> e : series.entrySet()) {
            String s = e.getKey();
            String n = s.contains("{") ? s.substring(0, s.indexOf('{')) : s;
            if (!n.equals(name)) {
                continue;
            }
            boolean all = true;
            for (int i = 0; i < labels.length; i += 2) {
                all &= s.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
            }
            if (all) {
                total += e.getValue();
            }
        }
        return total;
    }

    boolean has(String name, String... labels) {
        for (String s : series.keySet()) {
            String n = s.contains("{") ? s.substring(0, s.indexOf('{')) : s;
            boolean all = n.equals(name);
            for (int i = 0; all && i < labels.length; i += 2) {
                all = s.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
            }
            if (all) {
                return true;
            }
        }
        return false;
    }
}
