#!/usr/bin/env bash
# Sets the project's version everywhere it is written. pom.xml is the source (X.Y.Z-SNAPSHOT between releases); the
# charts' version and appVersion, the image tags (operator: the chart's appVersion; serving images: GpuPool's defaults,
# the operator chart's values) and the README build commands use X.Y.Z. VersionsTest fails when one of them differs.
#
#   hack/set-version.sh 0.2.0            # or 0.2.0-SNAPSHOT
set -euo pipefail
cd "$(dirname "$0")/.."
new=${1:?usage: hack/set-version.sh X.Y.Z[-SNAPSHOT]}
[[ $new =~ ^[0-9]+\.[0-9]+\.[0-9]+(-SNAPSHOT)?$ ]] || { echo "not a version: $new" >&2; exit 64; }
release=${new%-SNAPSHOT}
old=$(sed -n 's|^  <version>\(.*\)</version>$|\1|p' pom.xml | head -n 1)
old_release=${old%-SNAPSHOT}
sed -i "0,/^  <version>$old<\/version>$/s||  <version>$new</version>|" pom.xml
for chart in charts/gpupool-operator charts/gpupool-contributor; do
  sed -i -e "s|^version: .*|version: $release|" -e "s|^appVersion: .*|appVersion: \"$release\"|" "$chart/Chart.yaml"
done
files=(charts/gpupool-operator/values.yaml operator/src/main/java/io/gpupool/api/v1alpha1/ServingImages.java
  README.md inference-image/README.md inference-image/vllm/Dockerfile inference-image/llamacpp/Dockerfile
  src/main/docker/Dockerfile.jvm src/main/docker/Dockerfile.native-micro)
sed -i -E "s#(ghcr\.io/gpupool/(gpupool-operator|inference-vllm|inference-llamacpp)):$old_release#\1:$release#g" "${files[@]}"
echo "version $old -> $new (images and charts: $release); run hack/update-crds.sh (GpuPool's defaults are in its schema)"
