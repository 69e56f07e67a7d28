package io.gpupool.tools;

import java.util.List;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.ledger.LedgerExport;

/**
 * Prints every Organization's per-day ledger as CSV (default) or JSON, read from the API server the current
 * kubeconfig points at (hack/ledger-export.sh). Reading Organizations is all it needs.
 *
 * <pre>LedgerExportCommand [--format csv|json]</pre>
 */
public final class LedgerExportCommand {

    private LedgerExportCommand() {
    }

    public static void main(String[] args) {
        String format = "csv";
        for (int i = 0; i < args.length; i++) {
            if ("--format".equals(args[i]) && i + 1 < args.length) {
                format = args[++i];
            } else {
                System.err.println("usage: ledger-export [--format csv|json]");
                System.exit(2);
            }
        }
        if (!format.equals("csv") && !format.equals("json")) {
            System.err.println("ledger-export: --format is csv or json, not '" + format + "'");
            System.exit(2);
        }
        try (KubernetesClient client = new KubernetesClientBuilder().build()) {
            List<Organization> orgs = client.resources(Organization.class).list().getItems();
            System.out.print(format.equals("csv") ? LedgerExport.csv(orgs) : LedgerExport.json(orgs));
        }
    }
}
