#!/usr/bin/env bash
# Regenerates the CRDs from the API classes and copies them to crds/ and to the gpupool-operator chart's crds/
# (a test fails when either copy differs from what the build generates).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q package -DskipTests "$@"
for dir in crds charts/gpupool-operator/crds; do
  rm -f "$dir"/*.gpupool.io-v1.yml
  cp target/kubernetes/*.gpupool.io-v1.yml "$dir"/
done
echo "crds/ and charts/gpupool-operator/crds/ updated:"; ls crds/
