#!/usr/bin/env bash
# Open-loop benchmark of the agents' tunnel (src/test/java/io/gpupool/bench/TunnelBenchmark.java): a fake engine
# called directly and through the tunnel (gateway side, WebSocket, agent), at 500 and 1,000 requests/s, then rising
# rates until the tunnel's p99 passes 50 ms. Latencies from the intended send time (HdrHistogram). Prints the load
# average at the end: figures taken while the machine is busy are not comparable.
#
#   hack/bench-tunnel.sh              # 10 s per step, up to 8,000 req/s
#   hack/bench-tunnel.sh 5 4000       # 5 s per step, up to 4,000 req/s
#
# BENCH_SKIP_BUILD=1 skips the Maven steps (see hack/bench.sh, which builds and runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_MAIN=io.gpupool.bench.TunnelBenchmark BENCH_JAVA_OPTS=-Xmx1g exec hack/bench.sh "$@"
