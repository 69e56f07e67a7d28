#!/bin/sh
# gpupool-drain [MAX_SECONDS [QUIET_SECONDS]]: the serving container's preStop hook.
#
# Neither engine drains by itself at the pinned versions: on SIGTERM vLLM's API server and llama-server stop at once
# and abort the requests they are generating. Kubernetes runs preStop before it sends SIGTERM, and takes the
# terminating pod out of the Service's endpoints at the same time, so this hook waits until the engine has had no
# request in flight for QUIET_SECONDS in a row (default 5: long enough for the endpoint removal to reach every proxy)
# or until MAX_SECONDS have passed (default 100; keep it below terminationGracePeriodSeconds, which also covers the
# engine's own shutdown after SIGTERM). It reads the engine's Prometheus metrics on 127.0.0.1:$GPUPOOL_PORT:
#   vLLM       vllm:num_requests_running + vllm:num_requests_waiting
#   llama.cpp  llamacpp:requests_processing + llamacpp:requests_deferred   (the entrypoint passes --metrics)
# It always exits 0: a failing preStop hook only delays the SIGTERM.
set -u
LC_ALL=C
export LC_ALL

max=${1:-100}
quiet=${2:-5}
port=${GPUPOOL_PORT:-8000}
case $max$quiet$port in *[!0-9]*) echo "gpupool-drain: usage: gpupool-drain [MAX_SECONDS [QUIET_SECONDS]]"; exit 0 ;; esac

in_flight() {
    curl -q -s --fail --max-time 3 "http://127.0.0.1:$port/metrics" 2> /dev/null | awk '
        /^(vllm:num_requests_running|vllm:num_requests_waiting|llamacpp:requests_processing|llamacpp:requests_deferred)[{ ]/ {
            s += $NF; n++
        }
        END { if (n == 0) exit 1; printf "%d\n", s + 0.5 }'
}

start=$(date +%s)
idle=0
while :; do
    now=$(date +%s)
    if [ $((now - start)) -ge "$max" ]; then
        echo "gpupool-drain: requests still in flight after ${max}s; letting the engine stop"
        exit 0
    fi
    if ! n=$(in_flight); then
        echo "gpupool-drain: engine metrics unavailable on port $port; nothing to drain"
        exit 0
    fi
    if [ "$n" -eq 0 ]; then
        idle=$((idle + 1))
        if [ "$idle" -ge "$quiet" ]; then
            echo "gpupool-drain: no request in flight for ${quiet}s; the engine can stop"
            exit 0
        fi
    else
        idle=0
    fi
    sleep 1
done
