package io.gpupool.sim;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The trace's input formats: the pool CSV (read whole: it is small) and the workload CSV (streamed). */
final class Trace {

    static final String[] POOL_COLUMNS = { "cluster", "node", "organization", "gpu_product", "gpu_memory_mib", "gpus",
            "joins_at_s", "leaves_at_s" };
    static final String[] WORKLOAD_COLUMNS = { "id", "organization", "submit_s", "duration_s", "gpus_per_replica",
            "replicas", "min_gpu_memory_mib", "priority", "shared", "min_replicas?", "max_replicas?", "request_rate?",
            "rate_period_s?", "request_s?", "target_in_flight?", "scale_down_delay_s?", "cold_start_s?" };

    private Trace() {
    }

    /** A node of the pool CSV. {@code leavesAt} is -1 when it never leaves. */
    record NodeRow(String cluster, String node, String organization, String product, long memoryMiB, int gpus,
            long joinsAt, long leavesAt) {
    }

    /**
     * A row of the workload CSV.
     *
     * @param service its request-rate columns when it is an autoscaled service (max_replicas set), else null
     */
    record WorkloadRow(String id, String organization, long submit, long duration, int gpusPerReplica, int replicas,
            long minMemoryMiB, int priority, boolean shared, Service service) {
    }

    /**
     * An autoscaled service: requests arrive at {@code rates[i]} per second during the i-th period of
     * {@code ratePeriod} seconds (the profile repeats), each takes {@code requestSeconds} on a replica; the autoscaler
     * keeps between {@code minReplicas} and {@code maxReplicas} replicas at {@code target} requests in flight each.
     */
    record Service(int minReplicas, int maxReplicas, double[] rates, long ratePeriod, double requestSeconds, int target,
            long scaleDownDelay, long coldStart) {

        double rateAt(long sinceStart) {
            int i = (int) ((sinceStart / ratePeriod) % rates.length);
            return rates[i];
        }
    }

    static List<NodeRow> readPool(Path path) {
        List<NodeRow> out = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        try (CsvRows r = new CsvRows(path, POOL_COLUMNS)) {
            while (r.next()) {
                String cluster = r.required(0);
                String node = r.required(1);
                if (!keys.add(cluster + "/" + node)) {
                    throw r.error(1, "node " + cluster + "/" + node + " appears twice");
                }
                String org = r.required(2);
                String product = r.required(3);
                long mem = r.nonNegativeLong(4);
                long gpus = r.nonNegativeLong(5);
                if (gpus > Integer.MAX_VALUE) {
                    throw r.error(5, "too large: " + gpus);
                }
                long joins = r.optionalLong(6);
                long leaves = r.optionalLong(7);
                if (leaves >= 0 && leaves < Math.max(0, joins)) {
                    throw r.error(7, "leaves (" + leaves + ") before it joins (" + Math.max(0, joins) + ")");
                }
                out.add(new NodeRow(cluster, node, org, product, mem, (int) gpus, Math.max(0, joins), leaves));
            }
        }
        return out;
    }

    /** Streams the workload CSV; requires it sorted by submit_s. */
    static final class WorkloadReader implements AutoCloseable {

        private final CsvRows rows;
        private long lastSubmit = 0;
        private WorkloadRow next;

        WorkloadReader(Path path) {
            rows = new CsvRows(path, WORKLOAD_COLUMNS);
            advance();
        }

        private void advance() {
            if (!rows.next()) {
                next = null;
                return;
            }
            String id = rows.required(0);
            String org = rows.required(1);
            long submit = rows.nonNegativeLong(2);
            if (submit < lastSubmit) {
                throw rows.error(2, "not sorted: " + submit + " comes after " + lastSubmit
                        + " (the workload CSV must be sorted by submit_s)");
            }
            lastSubmit = submit;
            long duration = rows.nonNegativeLong(3);
            int gpus = rows.positiveInt(4);
            int replicas = rows.positiveInt(5);
            long mem = rows.text(6).isEmpty() ? 0 : rows.nonNegativeLong(6);
            int priority = rows.integer(7, 0);
            boolean shared = rows.bool(8);
            next = new WorkloadRow(id, org, submit, duration, gpus, replicas, mem, priority, shared, service(duration));
        }

        /** The request-rate columns of an autoscaled service, or null when max_replicas is empty. */
        private Service service(long duration) {
            if (rows.text(10).isEmpty()) {
                for (int c = 11; c <= 16; c++) {
                    if (!rows.text(c).isEmpty() && c != 9) {
                        throw rows.error(c, "set only for an autoscaled service: set max_replicas too");
                    }
                }
                return null;
            }
            int max = rows.positiveInt(10);
            long min = rows.text(9).isEmpty() ? 0 : rows.nonNegativeLong(9);
            if (min > max) {
                throw rows.error(9, "greater than max_replicas (" + max + ")");
            }
            String profile = rows.required(11);
            String[] parts = profile.split(";");
            double[] rates = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    rates[i] = Double.parseDouble(parts[i].trim());
                } catch (NumberFormatException e) {
                    throw rows.error(11, "not a number: '" + parts[i] + "' (rates per second, separated by ';')");
                }
                if (rates[i] < 0 || Double.isNaN(rates[i]) || Double.isInfinite(rates[i])) {
                    throw rows.error(11, "must be a non-negative number: " + parts[i]);
                }
            }
            long period = rows.text(12).isEmpty() ? Math.max(1, duration / rates.length) : rows.positiveInt(12);
            double requestSeconds = rows.decimal(13, 1.0);
            if (requestSeconds <= 0) {
                throw rows.error(13, "must be positive");
            }
            int target = rows.text(14).isEmpty() ? 8 : rows.positiveInt(14);
            long delay = rows.text(15).isEmpty() ? 300 : rows.nonNegativeLong(15);
            long coldStart = rows.text(16).isEmpty() ? 60 : rows.nonNegativeLong(16);
            return new Service((int) min, max, rates, period, requestSeconds, target, delay, coldStart);
        }

        /** The next row without consuming it, or null at the end. */
        WorkloadRow peek() {
            return next;
        }

        WorkloadRow take() {
            WorkloadRow r = next;
            advance();
            return r;
        }

        long line() {
            return rows.line();
        }

        String file() {
            return rows.file();
        }

        @Override
        public void close() {
            rows.close();
        }
    }
}
