package io.gpupool.bench.apiserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.fabric8.kubernetes.client.utils.Serialization;

/**
 * The measured figures of a run: one row per number, each with the load average it was measured under (the mean of
 * the 1-minute load average sampled during the measurement, and /proc/loadavg at its end), printed as a table and
 * written as CSV and JSON.
 */
final class Figures {

    record Row(String scenario, String figure, String value, String unit, double loadMean, String loadavgAtEnd,
            String note) {
    }

    private final List<Row> rows = new ArrayList<>();
    private final Map<String, Object> settings = new LinkedHashMap<>();

    synchronized void add(String scenario, String figure, double value, String unit, LoadSampler.Window load,
            String note) {
        String v = Double.isNaN(value) ? "-"
                : Math.abs(value) >= 100 || value == Math.rint(value) ? String.format(Locale.ROOT, "%.0f", value)
                        : String.format(Locale.ROOT, "%.2f", value);
        add(scenario, figure, v, unit, load, note);
    }

    synchronized void add(String scenario, String figure, String value, String unit, LoadSampler.Window load,
            String note) {
        Row row = new Row(scenario, figure, value, unit, load.mean(), load.endLoadavg(), note == null ? "" : note);
        rows.add(row);
        System.out.printf(Locale.ROOT, "  %-10s %-52s %12s %-6s (load %.1f)%s%n", scenario, figure, value, unit,
                row.loadMean(), row.note().isEmpty() ? "" : "  " + row.note());
    }

    void setting(String key, Object value) {
        settings.put(key, value);
    }

    String table() {
        StringBuilder out = new StringBuilder();
        out.append("| scenario | figure | value | unit | load (1-min mean) | /proc/loadavg at end | note |\n");
        out.append("| --- | --- | ---: | --- | ---: | --- | --- |\n");
        for (Row r : rows) {
            out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.1f | %s | %s |%n", r.scenario(), r.figure(),
                    r.value(), r.unit(), r.loadMean(), r.loadavgAtEnd(), r.note()));
        }
        return out.toString();
    }

    void write(Path csv, Path json) throws IOException {
        Files.createDirectories(csv.toAbsolutePath().getParent());
        StringBuilder out = new StringBuilder("scenario,figure,value,unit,load_mean,loadavg_at_end,note\n");
        for (Row r : rows) {
            out.append(String.join(",", quote(r.scenario()), quote(r.figure()), r.value(), quote(r.unit()),
                    String.format(Locale.ROOT, "%.2f", r.loadMean()), quote(r.loadavgAtEnd()), quote(r.note())))
                    .append('\n');
        }
        Files.writeString(csv, out);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("settings", settings);
        doc.put("figures", rows);
        Files.writeString(json, Serialization.asJson(doc));
    }

    private static String quote(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }
}
