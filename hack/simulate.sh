#!/usr/bin/env bash
# Replays a workload trace against the admission engines in virtual time and prints a comparison of policies
# (README.md, section "Trace simulator").
#
#   hack/simulate.sh examples/trace/pool.csv examples/trace/workload.csv [--csv out.csv] [--svg out.svg]
#                    [--classes examples/01-gpuclasses.yaml] [--policies fifo,static,fair,contribution,memory] [--max-waiting 2000]
#
# SIM_SKIP_BUILD=1 reuses target/classes and target/sim.classpath. JAVA_OPTS is passed to java (e.g. -Xmx512m).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CP_FILE="$ROOT/target/sim.classpath"
# Pinned: the dependency plugin version Maven picks by default is not in the local repository on these machines.
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.9.0

if [ "${SIM_SKIP_BUILD:-0}" != 1 ] || [ ! -s "$CP_FILE" ]; then
  cd "$ROOT"
  mvn -B -q compile
  mvn -B -q "$DEP_PLUGIN:build-classpath" -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=runtime >/dev/null
  cd - >/dev/null
fi

# shellcheck disable=SC2086
# Paths on the command line are relative to the caller's directory; the default GpuClasses to the repository.
exec java ${JAVA_OPTS:-} -Dgpupool.sim.classes="$ROOT/examples/01-gpuclasses.yaml" \
  -cp "$ROOT/target/classes:$(cat "$CP_FILE")" io.gpupool.sim.TraceSimulator "$@"
