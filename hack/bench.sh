#!/usr/bin/env bash
# Runs the JMH benchmarks of the test sources (src/test/java/io/gpupool/bench): compiles the main and test classes
# (the JMH annotation processor writes target/test-classes/META-INF/BenchmarkList), builds the test classpath with
# Maven, then runs org.openjdk.jmh.Main with the arguments given. Benchmarks are not tests: Surefire never
# runs them.
#
#   hack/bench.sh AdmissionCycle -f 1 -wi 2 -i 3     # one benchmark class (a regex), JMH options after it
#   hack/bench.sh AdmissionCycle -p scale=1          # one @Param value
#   hack/bench.sh -l                                 # list the benchmarks
#   hack/bench.sh -h                                 # JMH's options
#
# BENCH_SKIP_BUILD=1 skips the Maven steps (reuses target/ and target/bench-classpath.txt).
# BENCH_MAIN=<class> runs that class of the test sources instead of JMH (open-loop benchmarks, e.g. bench-tunnel.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

CP_FILE=target/bench-classpath.txt
# Pinned: the dependency plugin version Maven picks by default is not in the local repository on these machines.
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.9.0

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] || [ ! -s "$CP_FILE" ]; then
  mvn -B -q test-compile
  mvn -B -q "$DEP_PLUGIN:build-classpath" -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null
fi

exec java ${BENCH_JAVA_OPTS:-} -cp "target/test-classes:target/classes:$(cat "$CP_FILE")" "${BENCH_MAIN:-org.openjdk.jmh.Main}" "$@"
