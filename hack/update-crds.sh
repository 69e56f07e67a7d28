#!/usr/bin/env bash
# Regenerates the CRDs from the API classes and copies them to crds/ (a test fails when they differ).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q package -DskipTests
cp target/kubernetes/*.gpupool.io-v1.yml crds/
echo "crds/ updated:"; ls crds/
