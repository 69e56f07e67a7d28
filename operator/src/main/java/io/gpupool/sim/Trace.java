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
            "replicas", "min_gpu_memory_mib", "priority", "shared" };

    private Trace() {
    }

    /** A node of the pool CSV. {@code leavesAt} is -1 when it never leaves. */
    record NodeRow(String cluster, String node, String organization, String product, long memoryMiB, int gpus,
            long joinsAt, long leavesAt) {
    }

    /** A row of the workload CSV. */
    record WorkloadRow(String id, String organization, long submit, long duration, int gpusPerReplica, int replicas,
            long minMemoryMiB, int priority, boolean shared) {
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
            next = new WorkloadRow(id, org, submit, duration, gpus, replicas, mem, priority, shared);
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
