package io.gpupool.sim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * GPUs in use per organization over time, one panel per policy, as hand-written SVG. Memory is bounded: each series
 * keeps {@value #BINS} time bins of averaged GPUs; when the trace outgrows them, neighbouring bins merge and the bin
 * width doubles.
 */
final class SvgChart implements Simulation.Observer {

    static final int BINS = 400;
    private static final String[] COLORS = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
            "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };

    /** GPU-seconds per bin, per organization (and "" for the available GPUs). */
    private static final class Series {
        long width = 1;
        long origin = -1;
        long end;
        final Map<String, double[]> bins = new LinkedHashMap<>();

        void add(String key, long from, long to, double gpus) {
            if (origin < 0) {
                origin = from;
            }
            while (to - origin > width * BINS) {
                for (double[] b : bins.values()) {
                    for (int i = 0; i < BINS / 2; i++) {
                        b[i] = b[2 * i] + b[2 * i + 1];
                    }
                    java.util.Arrays.fill(b, BINS / 2, BINS, 0);
                }
                width *= 2;
            }
            end = Math.max(end, to);
            if (gpus == 0) {
                return;
            }
            double[] b = bins.computeIfAbsent(key, k -> new double[BINS]);
            long s = from - origin;
            long e = to - origin;
            for (long i = s / width; i * width < e && i < BINS; i++) {
                long lo = Math.max(s, i * width);
                long hi = Math.min(e, (i + 1) * width);
                b[(int) i] += gpus * (hi - lo);
            }
        }
    }

    private final Map<Policy, Series> series = new LinkedHashMap<>();

    @Override
    public void interval(Policy policy, long from, long to, Map<String, Integer> inUse, int available) {
        Series s = series.computeIfAbsent(policy, p -> new Series());
        s.add("", from, to, available);
        for (Map.Entry<String, Integer> e : inUse.entrySet()) {
            s.add(e.getKey(), from, to, e.getValue());
        }
    }

    String render() {
        TreeSet<String> orgs = new TreeSet<>();
        double maxY = 1;
        for (Series s : series.values()) {
            for (Map.Entry<String, double[]> e : s.bins.entrySet()) {
                if (!e.getKey().isEmpty()) {
                    orgs.add(e.getKey());
                }
                for (double v : e.getValue()) {
                    maxY = Math.max(maxY, v / s.width);
                }
            }
        }
        List<String> orgList = new ArrayList<>(orgs);
        int panelW = 800;
        int panelH = 180;
        int left = 60;
        int top = 30;
        int gap = 50;
        int height = top + series.size() * (panelH + gap) + 20 + 20 * ((orgList.size() + 4) / 5);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n",
                left + panelW + 30, height));
        sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\">GPUs in use per organization over time</text>%n", left));
        int y0 = top;
        for (Map.Entry<Policy, Series> ps : series.entrySet()) {
            Series s = ps.getValue();
            long span = Math.max(1, s.end - Math.max(0, s.origin));
            int usedBins = (int) Math.min(BINS, (span + s.width - 1) / s.width);
            double xScale = panelW / (double) Math.max(1, usedBins);
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>%n", left, y0 + 12,
                    esc(ps.getKey().label)));
            int base = y0 + 20 + panelH;
            sb.append(String.format(Locale.ROOT,
                    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#ccc\"/>%n", left, y0 + 20,
                    panelW, panelH));
            for (int k = 0; k <= 4; k++) {
                double v = maxY * k / 4;
                int y = (int) Math.round(base - panelH * k / 4.0);
                sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f</text>%n", left - 5,
                        y + 4, v));
            }
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">t = %d s</text>%n", left, base + 15,
                    Math.max(0, s.origin)));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">t = %d s</text>%n",
                    left + panelW, base + 15, s.end));
            for (int oi = -1; oi < orgList.size(); oi++) {
                String key = oi < 0 ? "" : orgList.get(oi);
                double[] b = s.bins.getOrDefault(key, new double[BINS]);
                StringBuilder pts = new StringBuilder();
                for (int i = 0; i < usedBins; i++) {
                    long binLen = Math.min(s.width, Math.max(1, s.end - s.origin - i * s.width));
                    double v = b[i] / binLen;
                    double y = base - panelH * v / maxY;
                    pts.append(String.format(Locale.ROOT, "%.1f,%.1f %.1f,%.1f ", left + i * xScale, y,
                            left + (i + 1) * xScale, y));
                }
                String color = oi < 0 ? "#999" : COLORS[oi % COLORS.length];
                sb.append(String.format(Locale.ROOT,
                        "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"%s\"/>%n", color,
                        oi < 0 ? " stroke-dasharray=\"4 3\"" : "", pts.toString().trim()));
            }
            y0 += panelH + gap;
        }
        int ly = y0 + 5;
        sb.append(String.format(Locale.ROOT,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\" stroke-dasharray=\"4 3\"/><text x=\"%d\" y=\"%d\">available</text>%n",
                left, ly, left + 20, ly, left + 25, ly + 4));
        for (int i = 0; i < orgList.size(); i++) {
            int x = left + 130 * ((i + 1) % 6);
            int y = ly + 20 * ((i + 1) / 6);
            sb.append(String.format(Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/><text x=\"%d\" y=\"%d\">%s</text>%n",
                    x, y, x + 20, y, COLORS[i % COLORS.length], x + 25, y + 4, esc(orgList.get(i))));
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
