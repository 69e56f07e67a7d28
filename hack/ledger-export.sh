#!/usr/bin/env bash
# Prints every Organization's per-day ledger (GPU-hours contributed, used, lent and borrowed per GpuClass and UTC day,
# tokens consumed and served per day)
# for audit, as CSV (default) or JSON, from the API server of the current kubeconfig (KUBECONFIG or ~/.kube/config).
# It only reads Organizations (the operator checkpoints the ledger into their status).
#
#   hack/ledger-export.sh [--format csv|json] > ledger.csv
#
# LEDGER_SKIP_BUILD=1 reuses target/classes and target/tools.classpath.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CP_FILE="$ROOT/target/tools.classpath"
# Pinned: the dependency plugin version Maven picks by default is not in the local repository on these machines.
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.9.0

if [ "${LEDGER_SKIP_BUILD:-0}" != 1 ] || [ ! -s "$CP_FILE" ]; then
  (cd "$ROOT" && mvn -B -q compile \
    && mvn -B -q "$DEP_PLUGIN:build-classpath" -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=runtime >/dev/null)
fi
exec java -cp "$ROOT/target/classes:$(cat "$CP_FILE")" io.gpupool.tools.LedgerExportCommand "$@"
