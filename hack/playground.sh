#!/usr/bin/env bash
# The gpupool playground: builds gpupool, then runs an API server, the real operator, GPU nodes of the pool's own
# cluster, a simulated contributed cluster (its own embedded API server) joined through the real agent, simulated
# kubelets and token controller, applies examples/ and plays a scenario. Ctrl-C stops everything.
#   hack/playground.sh                        real kube-apiserver when hack/provision-kube-apiserver.sh has run,
#                                             otherwise the embedded API server
#   hack/playground.sh --embedded             always the embedded API server
#   hack/playground.sh --exit-after-scenario  stop after the scripted scenario
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
if [[ " ${args[*]-} " != *" --embedded "* ]] && [ ! -x "${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/1.20.2-linux-amd64/kube-apiserver" ]; then
  args+=(--embedded)
fi
echo "Building gpupool (the first run downloads dependencies) ..."
if [[ " ${args[*]} " == *" --embedded "* ]]; then
  # The embedded API server does not implement server-side apply, which is a build-time setting of the operator:
  # build a copy with it off, next to the production build.
  mvn -B -q package -DskipTests -Dquarkus.operator-sdk.enable-ssa=false -Dquarkus.package.output-directory=playground-app
else
  mvn -B -q package -DskipTests
fi
mvn -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/playground.classpath >/dev/null
export KUBE_API_TEST_OFFLINE_MODE=true KUBE_API_TEST_API_SERVER_VERSION=1.20.2
exec java -cp "target/test-classes:target/classes:$(cat target/playground.classpath)" io.gpupool.playground.Playground "${args[@]}"
