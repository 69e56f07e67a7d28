#!/usr/bin/env bash
# Benchmarks of the real operator against the playground's REAL kube-apiserver + etcd (src/test/java/io/gpupool/bench/
# apiserver, a main class, not a test): Kueue-shaped admission of 15,000 ModelDeployments, apply-to-workload latency
# with 1,000, operator RSS with 10,000 cached, start-up to first reconcile. Prints a table and writes
# target/bench-apiserver/<label>.{csv,json,md}. Needs the binaries of hack/provision-kube-apiserver.sh.
#
#   hack/bench-apiserver.sh                          every scenario at the issue's numbers (long: run it in background)
#   hack/bench-apiserver.sh --scale 0.1 admission    one scenario, a tenth of the numbers
#   hack/bench-apiserver.sh --operator-env QUARKUS_OPERATOR_SDK_CONCURRENT_RECONCILIATION_THREADS=4 latency
#   hack/bench-apiserver.sh --operator-jvm "-XX:+UseSerialGC -Xmx256m" rss
#   hack/bench-apiserver.sh --help
#
# BENCH_SKIP_BUILD=1 skips the Maven steps (reuses target/quarkus-app and target/bench-apiserver.classpath).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN_DIR="${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/1.20.2-linux-amd64"
for b in kube-apiserver etcd kubectl; do
  if [ ! -x "$BIN_DIR/$b" ]; then
    echo "bench-apiserver.sh: these benchmarks need the REAL kube-apiserver, but $BIN_DIR/$b is missing." >&2
    echo "  Provision it once with: sudo bash hack/provision-kube-apiserver.sh   (see hack/README-apiserver.md)" >&2
    exit 2
  fi
done

CP_FILE=target/bench-apiserver.classpath
# Pinned: the dependency plugin version Maven picks by default is not in the local repository on these machines.
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.9.0

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] || [ ! -s "$CP_FILE" ] || [ ! -f target/quarkus-app/quarkus-run.jar ]; then
  echo "Building the operator (target/quarkus-app) and the test classes ..."
  # Not offline (-o): on a fresh machine the packaging plugins are not in the local repository yet.
  mvn -B -q package -DskipTests
  mvn -B -q "$DEP_PLUGIN:build-classpath" -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null
fi

export KUBE_API_TEST_OFFLINE_MODE=true KUBE_API_TEST_API_SERVER_VERSION=1.20.2
exec java -Djava.util.logging.manager=org.jboss.logmanager.LogManager ${BENCH_JAVA_OPTS:-} -cp "target/test-classes:target/classes:$(cat "$CP_FILE")" \
  io.gpupool.bench.apiserver.ApiServerBenchmark "$@"
