#!/usr/bin/env bash
# Benchmark of the pool gateway (src/test/java/io/gpupool/bench/gateway/GatewayBenchmark, a main class, not a test):
# open-loop load (constant arrival rate, latency from the intended send time, HdrHistogram) against SIMULATED engines
# that answer at once, called three ways side by side: directly (the baseline), through one gateway, and through the
# gateway and an agent's tunnel; the added latency at each rate, streaming's time to first chunk, the highest rate
# one gateway sustains with p99 under 50 ms on each path, and fair queuing as time: a quiet organization's p50/p99 on a
# saturated shared model alone and under another organization's 10x flood. Uses the cluster harness when
# hack/provision-kube-apiserver.sh has run (the gateway watches it; the real controllers and scheduler make the serving
# pods, the simulated kubelet runs them with SIMULATED engines), else the embedded API server. Prints a table with the
# load average and writes target/bench-gateway/results.md.
#
#   hack/bench-gateway.sh                                  500 and 1,000 req/s, the sweep, fairness (about 10 minutes)
#   hack/bench-gateway.sh --seconds 10 --rates 500 --sweep 1000,2000,3000 --fair-seconds 10
#
# BENCH_SKIP_BUILD=1 skips the Maven steps (reuses target/test-classes and target/bench-gateway.classpath).
set -euo pipefail
cd "$(dirname "$0")/.."

CP_FILE=target/bench-gateway.classpath
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.9.0
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] || [ ! -s "$CP_FILE" ]; then
  echo "Building gpupool and its test classes ..."
  mvn -B -q test-compile
  mvn -B -q "$DEP_PLUGIN:build-classpath" -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null
fi
export KUBE_API_TEST_OFFLINE_MODE=true KUBE_API_TEST_API_SERVER_VERSION=1.20.2
exec java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -Xmx1g ${BENCH_JAVA_OPTS:-} \
  -cp "target/test-classes:target/classes:$(cat "$CP_FILE")" io.gpupool.bench.gateway.GatewayBenchmark "$@"
