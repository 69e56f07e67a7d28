#!/bin/sh
# gpupool inference entrypoint: turns the operator's description of a replica (the GPUPOOL_* environment of
# io.gpupool.core.render.ServingContract, plus extra engine arguments as the container's args) into a running
# OpenAI-compatible server. It validates the contract, downloads the model into the (possibly node-shared) cache,
# builds the engine's arguments and execs the engine, so that SIGTERM reaches it directly.
#
# POSIX sh on purpose: both base images (vllm/vllm-openai, llama.cpp server-cuda; Ubuntu, /bin/sh is dash) have it,
# and it needs only curl, sed, grep, awk, tr, cut, wc, mkdir, mv, rm (flock and sha256sum when present).
#
# Every failure prints ONE line on stderr ("gpupool-entrypoint: ...") and exits non-zero; see README.md for the
# exit codes. Progress goes to stdout.
#
# Knobs outside the operator's contract (never rendered by the operator; production works without them):
#   GPUPOOL_VLLM_BIN, GPUPOOL_LLAMA_SERVER_BIN   engine executables (default: vllm / llama-server on PATH)
#   GPUPOOL_TEST_GPU_COUNT                       visible GPU count, overriding CUDA/NVIDIA_VISIBLE_DEVICES, nvidia-smi
#   GPUPOOL_TEST_LOCK_MODE                       flock | mkdir (default: flock when installed, else mkdir)
#   GPUPOOL_TEST_LOCK_STALE_SECONDS              mkdir lock: seconds without heartbeat before it is stale (60)

set -u
LC_ALL=C
export LC_ALL
umask 022

prog=gpupool-entrypoint
nl='
'
tab=$(printf '\t')

# ---------------------------------------------------------------------------------------------------------------------
# Output and cleanup

work=''
curl_pid=''
wait_pid=''
beat_pid=''
lock_held=''

log() {
    printf '%s: %s\n' "$prog" "$*"
}

# A value shown in a message: one line, printable, at most 120 characters.
show() {
    printf '%s' "$1" | tr -c '[:print:]' '?' | cut -c1-120
}

# Releases the download lock (see lock_acquire below).
lock_release() {
    case $lock_held in
        '') ;;
        flock) exec 9>&- ;;
        *)
            if [ -n "$beat_pid" ]; then
                kill "$beat_pid" 2> /dev/null
                wait "$beat_pid" 2> /dev/null
                beat_pid=''
            fi
            rm -rf "$lock_held"
            ;;
    esac
    lock_held=''
}

cleanup() {
    if [ -n "$curl_pid" ]; then kill "$curl_pid" 2>/dev/null; curl_pid=''; fi
    if [ -n "$wait_pid" ]; then kill "$wait_pid" 2>/dev/null; wait_pid=''; fi
    lock_release
    if [ -n "$work" ]; then rm -rf "$work"; work=''; fi
}

die() {
    die_code=$1
    shift
    die_msg="$prog: $*"
    printf '%s\n' "$die_msg" >&2
    # Kubernetes shows /dev/termination-log in the container's status (terminationMessagePath).
    if [ -f /dev/termination-log ] && [ -w /dev/termination-log ]; then
        printf '%s\n' "$die_msg" > /dev/termination-log 2>/dev/null
    fi
    trap - EXIT TERM INT
    cleanup
    exit "$die_code"
}

on_signal() {
    log "terminated while preparing the model; partial downloads are kept and resume on the next start"
    trap - EXIT TERM INT
    cleanup
    exit 143
}

trap on_signal TERM INT
trap cleanup EXIT

# matches VALUE ERE: VALUE is one line and matches ^(ERE)$ entirely.
matches() {
    case $1 in *"$nl"*) return 1 ;; esac
    printf '%s\n' "$1" | grep -Eq "^($2)\$"
}

# A relative path inside a repository: safe characters, no empty, "." or ".." segment, no leading slash.
safe_repo_path() {
    matches "$1" '[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*' || return 1
    case /$1/ in */../* | */./*) return 1 ;; esac
    return 0
}

# Rich's quoting: prints the arguments as one string that `eval "set -- $x"` turns back into the same arguments.
quote_args() {
    for qa_arg do
        printf '%s\n' "$qa_arg" | sed "s/'/'\\\\''/g;1s/^/'/;\$s/\$/' \\\\/"
    done
    echo " "
}

# ---------------------------------------------------------------------------------------------------------------------
# The contract (ServingContract): read and validate everything before touching the network.

engine=${GPUPOOL_ENGINE-}
source_url=${GPUPOOL_MODEL_SOURCE-}
revision=${GPUPOOL_MODEL_REVISION-}
model_file=${GPUPOOL_MODEL_FILE-}
served_name=${GPUPOOL_SERVED_MODEL_NAME-}
tp=${GPUPOOL_TENSOR_PARALLEL_SIZE-}
max_len=${GPUPOOL_MAX_CONTEXT_LENGTH-}
dtype=${GPUPOOL_DTYPE-}
gpu_util=${GPUPOOL_GPU_MEMORY_UTILIZATION-}
port=${GPUPOOL_PORT-}
cache=${GPUPOOL_CACHE_DIR-}
allow_remote_code=${GPUPOOL_ALLOW_REMOTE_CODE-}
allow_unsafe=${GPUPOOL_ALLOW_UNSAFE_WEIGHTS-}

case $engine in
    vllm | llamacpp) ;;
    '') die 64 "GPUPOOL_ENGINE is required (vllm or llamacpp)" ;;
    *) die 64 "GPUPOOL_ENGINE '$(show "$engine")' is not supported (vllm or llamacpp)" ;;
esac

case $source_url in
    '') die 64 "GPUPOOL_MODEL_SOURCE is required (hf://<org>/<name>)" ;;
    hf://*) ;;
    *://*) die 64 "GPUPOOL_MODEL_SOURCE scheme '$(show "${source_url%%://*}")://' is not supported (only hf://<org>/<name>)" ;;
    *) die 64 "GPUPOOL_MODEL_SOURCE '$(show "$source_url")' is not a hf://<org>/<name> URL" ;;
esac
repo_id=${source_url#hf://}
if ! matches "$repo_id" '[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*'; then
    die 64 "GPUPOOL_MODEL_SOURCE '$(show "$source_url")' is not a hf://<org>/<name> URL"
fi
case $repo_id in *..*) die 64 "GPUPOOL_MODEL_SOURCE '$(show "$source_url")' must not contain '..'" ;; esac
org=${repo_id%%/*}
name=${repo_id#*/}

if [ -z "$revision" ]; then
    die 64 "GPUPOOL_MODEL_REVISION is required (branch, tag or commit)"
fi
if ! matches "$revision" '[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*' || [ "${#revision}" -gt 200 ]; then
    die 64 "GPUPOOL_MODEL_REVISION '$(show "$revision")' is not a valid branch, tag or commit"
fi
case /$revision/ in */../* | */./*) die 64 "GPUPOOL_MODEL_REVISION '$(show "$revision")' is not a valid branch, tag or commit" ;; esac

if [ "$engine" = llamacpp ]; then
    if [ -z "$model_file" ]; then
        die 64 "GPUPOOL_MODEL_FILE is required with GPUPOOL_ENGINE=llamacpp (the .gguf file to serve)"
    fi
    if ! safe_repo_path "$model_file"; then
        die 64 "GPUPOOL_MODEL_FILE '$(show "$model_file")' is not a safe path inside the repository"
    fi
    case $model_file in
        *.gguf) ;;
        *) die 64 "GPUPOOL_MODEL_FILE '$(show "$model_file")' is not a .gguf file" ;;
    esac
elif [ -n "$model_file" ]; then
    die 64 "GPUPOOL_MODEL_FILE is only used with GPUPOOL_ENGINE=llamacpp (vllm serves the whole repository)"
fi

if [ -z "$served_name" ]; then
    die 64 "GPUPOOL_SERVED_MODEL_NAME is required"
fi
if ! matches "$served_name" '[[:print:]]+' || [ "${#served_name}" -gt 256 ]; then
    die 64 "GPUPOOL_SERVED_MODEL_NAME '$(show "$served_name")' must be printable and at most 256 characters"
fi

if [ -z "$tp" ]; then
    die 64 "GPUPOOL_TENSOR_PARALLEL_SIZE is required"
fi
if ! matches "$tp" '[1-9][0-9]{0,2}'; then
    die 64 "GPUPOOL_TENSOR_PARALLEL_SIZE '$(show "$tp")' is not a positive integer"
fi

if [ -z "$max_len" ]; then
    die 64 "GPUPOOL_MAX_CONTEXT_LENGTH is required"
fi
if ! matches "$max_len" '[1-9][0-9]{0,8}'; then
    die 64 "GPUPOOL_MAX_CONTEXT_LENGTH '$(show "$max_len")' is not a positive integer"
fi

case $dtype in
    bf16 | fp16 | fp8 | int8 | int4) ;;
    '') die 64 "GPUPOOL_DTYPE is required (bf16, fp16, fp8, int8 or int4)" ;;
    *) die 64 "GPUPOOL_DTYPE '$(show "$dtype")' is not supported (bf16, fp16, fp8, int8 or int4)" ;;
esac

if [ -z "$gpu_util" ]; then
    die 64 "GPUPOOL_GPU_MEMORY_UTILIZATION is required (a share in (0, 1], e.g. 0.90)"
fi
if ! matches "$gpu_util" '0?\.[0-9]{1,4}|1|1\.0{1,4}'; then
    die 64 "GPUPOOL_GPU_MEMORY_UTILIZATION '$(show "$gpu_util")' is not a share in (0, 1], e.g. 0.90"
fi
case $gpu_util in
    *[1-9]*) ;;
    *) die 64 "GPUPOOL_GPU_MEMORY_UTILIZATION '$(show "$gpu_util")' is not a share in (0, 1], e.g. 0.90" ;;
esac

if [ -z "$port" ]; then
    die 64 "GPUPOOL_PORT is required"
fi
if ! matches "$port" '[1-9][0-9]{0,4}' || [ "$port" -gt 65535 ]; then
    die 64 "GPUPOOL_PORT '$(show "$port")' is not a TCP port"
fi

if [ -z "$cache" ]; then
    die 64 "GPUPOOL_CACHE_DIR is required"
fi
case $cache in
    /*) ;;
    *) die 64 "GPUPOOL_CACHE_DIR '$(show "$cache")' is not an absolute path" ;;
esac
case $cache in *"$nl"*) die 64 "GPUPOOL_CACHE_DIR must be one line" ;; esac

case $allow_remote_code in
    true | false) ;;
    '') die 64 "GPUPOOL_ALLOW_REMOTE_CODE is required (true or false)" ;;
    *) die 64 "GPUPOOL_ALLOW_REMOTE_CODE '$(show "$allow_remote_code")' must be true or false" ;;
esac
case $allow_unsafe in
    true | false) ;;
    '') die 64 "GPUPOOL_ALLOW_UNSAFE_WEIGHTS is required (true or false)" ;;
    *) die 64 "GPUPOOL_ALLOW_UNSAFE_WEIGHTS '$(show "$allow_unsafe")' must be true or false" ;;
esac

# ---------------------------------------------------------------------------------------------------------------------
# Extra engine arguments (the container's args): appended verbatim after the rendered ones, but the two switches that
# would undo the pool's safety settings are refused unless the contract allows them.

remote_code_asked=false
expect_load_format=false
for extra_arg in "$@"; do
    if [ "$expect_load_format" = true ]; then
        expect_load_format=false
        load_format_value=$extra_arg
    else
        load_format_value=''
        case $extra_arg in
            # argparse accepts unambiguous prefixes, so --trust-rem... means --trust-remote-code to vLLM.
            --trust-rem*)
                if [ "$allow_remote_code" != true ]; then
                    die 64 "extra argument '$(show "$extra_arg")' needs GPUPOOL_ALLOW_REMOTE_CODE=true (it runs code shipped with the model)"
                fi
                remote_code_asked=true
                ;;
            --load-f*=*) load_format_value=${extra_arg#*=} ;;
            --load-f*) expect_load_format=true ;;
        esac
    fi
    if [ -n "$load_format_value" ] && [ "$allow_unsafe" != true ]; then
        case $load_format_value in
            safetensors | fastsafetensors | mistral | runai_streamer | runai_streamer_sharded | bitsandbytes) ;;
            *) die 64 "extra argument --load-format '$(show "$load_format_value")' needs GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true (only safetensors formats are allowed)" ;;
        esac
    fi
done
extra_args=$(quote_args "$@")
remote_code=false
if [ "$allow_remote_code" = true ] && [ "$remote_code_asked" = true ]; then
    remote_code=true
fi

# ---------------------------------------------------------------------------------------------------------------------
# Visible GPUs: tensor parallelism needs that many GPUs in this container.

count_list() {
    # Comma-separated device list; CUDA stops at the first "-1".
    printf '%s\n' "$1" | tr ',' '\n' | awk '$0 == "-1" { exit } NF > 0 { n++ } END { print n + 0 }'
}

visible_gpus() {
    if [ -n "${GPUPOOL_TEST_GPU_COUNT-}" ]; then
        printf '%s\n' "$GPUPOOL_TEST_GPU_COUNT"
        return
    fi
    if [ "${CUDA_VISIBLE_DEVICES+set}" = set ]; then
        count_list "$CUDA_VISIBLE_DEVICES"
        return
    fi
    if [ "${NVIDIA_VISIBLE_DEVICES+set}" = set ]; then
        case $NVIDIA_VISIBLE_DEVICES in
            '' | void | none) echo 0; return ;;
            all | /*) ;; # "all" or the device plugin's volume-mounts strategy: ask nvidia-smi
            *) count_list "$NVIDIA_VISIBLE_DEVICES"; return ;;
        esac
    fi
    if command -v nvidia-smi > /dev/null 2>&1; then
        nvidia-smi -L 2> /dev/null | awk '/^GPU / { g++ } /^[[:space:]]*MIG / { m++ } END { print (m > 0 ? m : g + 0) }'
        return
    fi
    echo ''
}

gpus=$(visible_gpus)
if [ -n "$gpus" ] && ! matches "$gpus" '[0-9]+'; then
    die 64 "GPUPOOL_TEST_GPU_COUNT '$(show "$gpus")' is not a number"
fi
if [ -z "$gpus" ]; then
    if [ "$tp" -gt 1 ]; then
        die 64 "GPUPOOL_TENSOR_PARALLEL_SIZE=$tp but the visible GPUs cannot be counted (no CUDA_VISIBLE_DEVICES, NVIDIA_VISIBLE_DEVICES or nvidia-smi)"
    fi
elif [ "$tp" -gt "$gpus" ]; then
    if [ "$engine" = llamacpp ] && [ "$tp" -eq 1 ] && [ "$gpus" -eq 0 ]; then
        log "no GPU visible: llama.cpp runs on the CPU"
    else
        die 64 "GPUPOOL_TENSOR_PARALLEL_SIZE=$tp exceeds the $gpus visible GPU(s)"
    fi
fi

# ---------------------------------------------------------------------------------------------------------------------
# Engine executable and cache directory.

if [ "$engine" = vllm ]; then
    engine_bin=${GPUPOOL_VLLM_BIN:-vllm}
else
    engine_bin=${GPUPOOL_LLAMA_SERVER_BIN:-llama-server}
fi
if ! command -v "$engine_bin" > /dev/null 2>&1; then
    die 127 "engine executable '$(show "$engine_bin")' not found on PATH"
fi

if ! mkdir -p "$cache/gpupool/hf" 2> /dev/null || [ ! -w "$cache/gpupool/hf" ]; then
    die 73 "GPUPOOL_CACHE_DIR '$(show "$cache")' is not writable by uid $(id -u) (mount a writable volume there)"
fi
if [ -n "${HF_HOME-}" ]; then
    mkdir -p "$HF_HOME" 2> /dev/null || log "warning: HF_HOME '$(show "$HF_HOME")' cannot be created"
fi

hf_endpoint=${HF_ENDPOINT:-https://huggingface.co}
hf_endpoint=${hf_endpoint%/}
case $hf_endpoint in
    http://* | https://*) ;;
    *) die 64 "HF_ENDPOINT '$(show "$hf_endpoint")' is not an http(s) URL" ;;
esac
if [ -n "${HF_TOKEN-}" ] && ! matches "$HF_TOKEN" '[A-Za-z0-9._~+/=-]+'; then
    die 64 "HF_TOKEN has characters a Hugging Face token cannot have"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gpupool-entrypoint.XXXXXX" 2> /dev/null) || {
    work=''
    die 73 "cannot create a temporary directory in ${TMPDIR:-/tmp} (mount a writable emptyDir at /tmp)"
}

# curl options in a config file, so that the token never appears on a command line (ps, /proc/*/cmdline).
# curl drops a custom Authorization header when a redirect leaves the host (HF redirects files to its CDN).
curl_cfg=$work/curl.cfg
(
    umask 077
    {
        echo 'silent'
        echo 'fail'
        echo 'location'
        echo 'proto = "=http,https"'
        echo 'proto-redir = "=http,https"'
        echo 'connect-timeout = 30'
        echo 'speed-limit = 1024'
        echo 'speed-time = 60'
        echo 'user-agent = "gpupool-entrypoint/1"'
        if [ -n "${HF_TOKEN-}" ]; then
            printf 'header = "Authorization: Bearer %s"\n' "$HF_TOKEN"
        fi
    } > "$curl_cfg"
)

# fetch URL OUTFILE [curl options...]: runs curl in the background so that SIGTERM is handled while it runs; sets
# http_code; returns curl's exit status.
fetch() {
    fetch_url=$1
    fetch_out=$2
    shift 2
    : > "$work/code"
    curl -q -K "$curl_cfg" -w '%{http_code}' -o "$fetch_out" "$@" "$fetch_url" > "$work/code" 2> /dev/null &
    curl_pid=$!
    wait "$curl_pid"
    fetch_rc=$?
    curl_pid=''
    http_code=$(cat "$work/code" 2> /dev/null)
    return "$fetch_rc"
}

nap() {
    sleep "$1" &
    wait_pid=$!
    wait "$wait_pid"
    wait_pid=''
}

file_size() {
    if [ -f "$1" ]; then wc -c < "$1" | tr -d ' '; else echo -1; fi
}

# ---------------------------------------------------------------------------------------------------------------------
# Lock: replicas on one node may share the cache; one downloads, the others wait and reuse.

lock_mode=${GPUPOOL_TEST_LOCK_MODE-}
if [ -z "$lock_mode" ]; then
    if command -v flock > /dev/null 2>&1; then lock_mode=flock; else lock_mode=mkdir; fi
fi
case $lock_mode in
    flock | mkdir) ;;
    *) die 64 "GPUPOOL_TEST_LOCK_MODE '$(show "$lock_mode")' must be flock or mkdir" ;;
esac
lock_stale=${GPUPOOL_TEST_LOCK_STALE_SECONDS:-60}
matches "$lock_stale" '[1-9][0-9]*' || die 64 "GPUPOOL_TEST_LOCK_STALE_SECONDS '$(show "$lock_stale")' is not a positive integer"

lock_acquire() {
    lock_path=$1
    if [ "$lock_mode" = flock ]; then
        exec 9>> "$lock_path.flock" || die 73 "cannot open the lock file $(show "$lock_path.flock")"
        if ! flock -n 9; then
            log "waiting for another replica on this node to finish downloading $repo_id"
            # In the background so that SIGTERM is handled; the lock belongs to fd 9, which the child shares.
            flock 9 &
            wait_pid=$!
            wait "$wait_pid" || { wait_pid=''; die 69 "cannot lock $(show "$lock_path.flock")"; }
            wait_pid=''
        fi
        lock_held=flock
        return
    fi
    lock_waited=0
    last_beat=''
    unchanged=0
    while ! mkdir "$lock_path.d" 2> /dev/null; do
        if [ "$lock_waited" -eq 0 ]; then
            log "waiting for another replica on this node to finish downloading $repo_id"
            lock_waited=1
        fi
        beat=$(cat "$lock_path.d/beat" 2> /dev/null)
        if [ "$beat" = "$last_beat" ]; then
            unchanged=$((unchanged + 1))
        else
            unchanged=0
            last_beat=$beat
        fi
        if [ "$unchanged" -ge "$lock_stale" ]; then
            log "the download lock has had no heartbeat for ${lock_stale}s: taking it over"
            rm -rf "$lock_path.d"
            unchanged=0
            continue
        fi
        nap 1
    done
    lock_held=$lock_path.d
    echo 0 > "$lock_path.d/beat"
    (
        n=0
        while [ -d "$lock_path.d" ]; do
            n=$((n + 1))
            echo "$n" > "$lock_path.d/beat" 2> /dev/null
            sleep 1
        done
    ) &
    beat_pid=$!
}

# ---------------------------------------------------------------------------------------------------------------------
# Hugging Face layout: GET {HF_ENDPOINT}/api/models/{org}/{name}/revision/{rev} lists the files (siblings[].rfilename,
# with size and lfs.sha256 when ?blobs=true is understood); files are at {HF_ENDPOINT}/{org}/{name}/resolve/{rev}/{f}.
#
# Cache layout under GPUPOOL_CACHE_DIR:
#   gpupool/hf/<org>/<name>/refs/<revision>              the commit the revision resolved to (offline restarts)
#   gpupool/hf/<org>/<name>/snapshots/<commit>/<files>   the files, as in the repository
#   gpupool/hf/<org>/<name>/snapshots/<commit>/.gpupool-complete-<profile>   what a completed download selected
#   gpupool/hf/<org>/<name>/.lock.flock | .lock.d        the download lock

rev_url=$(printf '%s' "$revision" | sed 's|/|%2F|g')
rev_key=$(printf '%s' "$revision" | sed 's|/|--|g')
repo_root=$cache/gpupool/hf/$org/$name
if [ "$engine" = vllm ]; then
    profile=vllm
    [ "$allow_unsafe" = true ] && profile=$profile-unsafe
    [ "$remote_code" = true ] && profile=$profile-code
else
    profile=gguf-$(printf '%s' "$model_file" | sed 's|/|--|g')
fi
mkdir -p "$repo_root/refs" "$repo_root/snapshots" 2> /dev/null ||
    die 73 "GPUPOOL_CACHE_DIR '$(show "$cache")' is not writable by uid $(id -u) (mount a writable volume there)"

# snapshot_complete DIR: the manifest of this profile exists and every file it names is there with its size.
snapshot_complete() {
    sc_manifest=$1/.gpupool-complete-$profile
    [ -f "$sc_manifest" ] || return 1
    while IFS=$tab read -r sc_name sc_size; do
        [ -n "$sc_name" ] || continue
        [ -f "$1/$sc_name" ] || return 1
        if [ "$sc_size" != - ] && [ "$(file_size "$1/$sc_name")" != "$sc_size" ]; then
            return 1
        fi
    done < "$sc_manifest"
    return 0
}

commit=''
snapshot=''
hit=false
if matches "$revision" '[0-9a-f]{40}' && snapshot_complete "$repo_root/snapshots/$revision"; then
    commit=$revision
    snapshot=$repo_root/snapshots/$commit
    hit=true
fi

fetch_listing() {
    fl_url="$hf_endpoint/api/models/$org/$name/revision/$rev_url?blobs=true"
    fl_attempt=1
    while :; do
        fetch "$fl_url" "$work/api.json" --max-time 120
        fl_rc=$?
        if [ "$fl_rc" -eq 0 ]; then
            return 0
        fi
        case $http_code in
            401 | 403) fl_error="access to $repo_id@$revision was denied by $hf_endpoint (HTTP $http_code): gated or private, set HF_TOKEN" ; return 1 ;;
            404) fl_error="$repo_id@$revision was not found on $hf_endpoint (HTTP 404)" ; return 1 ;;
            000 | '') fl_error="cannot reach $hf_endpoint to list $repo_id@$revision (curl exit $fl_rc)" ;;
            *) fl_error="listing $repo_id@$revision on $hf_endpoint failed (HTTP $http_code)" ;;
        esac
        if [ "$fl_attempt" -ge 3 ]; then
            return 1
        fi
        nap "$fl_attempt"
        fl_attempt=$((fl_attempt + 1))
    done
}

if [ -z "$snapshot" ]; then
    if ! fetch_listing; then
        cached_commit=$(cat "$repo_root/refs/$rev_key" 2> /dev/null)
        if [ -n "$cached_commit" ] && snapshot_complete "$repo_root/snapshots/$cached_commit"; then
            log "warning: $fl_error; serving the cached $repo_id@$cached_commit"
            commit=$cached_commit
            snapshot=$repo_root/snapshots/$commit
            hit=true
        else
            die 69 "$fl_error"
        fi
    fi
fi

if [ -z "$snapshot" ]; then
    json=$(tr -d '\r\n' < "$work/api.json")
    siblings=$(printf '%s\n' "$json" | sed -n 's/^.*"siblings"[[:space:]]*:[[:space:]]*\[\([^]]*\)\].*$/\1/p')
    commit=$(printf '%s\n' "$json" | sed 's/"siblings"[[:space:]]*:[[:space:]]*\[[^]]*\]//' |
        sed -n 's/^.*"sha"[[:space:]]*:[[:space:]]*"\([0-9a-f]\{40\}\)".*$/\1/p')
    if [ -z "$commit" ]; then
        commit=rev-$rev_key
    fi
    printf '%s\n' "$commit" > "$repo_root/refs/$rev_key.tmp.$$" && mv "$repo_root/refs/$rev_key.tmp.$$" "$repo_root/refs/$rev_key"
    snapshot=$repo_root/snapshots/$commit

    # listing.tsv: name <TAB> size-or-"-" <TAB> sha256-or-"-", for the file names that are safe paths.
    printf '%s\n' "$siblings" | sed 's/"rfilename"/\
&/g' | awk -v tab="$tab" '
        /^"rfilename"/ {
            if (!match($0, /^"rfilename"[[:space:]]*:[[:space:]]*"[^"]*"/)) next
            f = substr($0, RSTART, RLENGTH); sub(/^"rfilename"[[:space:]]*:[[:space:]]*"/, "", f); sub(/"$/, "", f)
            if (f !~ /^[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*$/) { bad++; next }
            if (("/" f "/") ~ /\/\.\.?\//) { bad++; next }
            size = "-"
            if (match($0, /"size"[[:space:]]*:[[:space:]]*[0-9]+/)) { size = substr($0, RSTART, RLENGTH); sub(/^.*:[[:space:]]*/, "", size) }
            sha = "-"
            if (match($0, /"sha256"[[:space:]]*:[[:space:]]*"[0-9a-f]+"/)) { sha = substr($0, RSTART, RLENGTH); sub(/^.*:[[:space:]]*"/, "", sha); sub(/"$/, "", sha) }
            print f tab size tab sha
        }' > "$work/listing.tsv"
fi

have() {
    # have ERE: names in the listing (outside original/) matching ERE.
    cut -f1 "$work/listing.tsv" | grep -v '^original/' | grep -E "$1"
}

# EREs use [.] rather than \. because awk -v would interpret the backslash.
pickle_ere='[.](bin|pt|pth|pkl|pickle|ckpt)$'
not_weights_ere='(^|/)(training_args[.]bin|optimizer[.]pt|scheduler[.]pt|rng_state[^/]*[.]pth)$'

# select.tsv: the listing rows to download, small files first.
select_files() {
    if [ "$engine" = llamacpp ]; then
        if ! cut -f1 "$work/listing.tsv" | grep -Fxq -- "$model_file"; then
            die 65 "GPUPOOL_MODEL_FILE '$(show "$model_file")' is not in $repo_id@$revision"
        fi
        sf_split=$(printf '%s\n' "$model_file" | sed -n 's/^\(.*\)-[0-9]\{5\}-of-\([0-9]\{5\}\)\.gguf$/\1 \2/p')
        if [ -n "$sf_split" ]; then
            sf_prefix=${sf_split% *}
            sf_total=${sf_split#* }
            awk -F "$tab" -v p="$sf_prefix" -v t="$sf_total" '
                substr($1, 1, length(p) + 1) == p "-" && substr($1, length(p) + 2) ~ ("^[0-9][0-9][0-9][0-9][0-9]-of-" t "\\.gguf$")
            ' "$work/listing.tsv" > "$work/select.tsv"
        else
            awk -F "$tab" -v f="$model_file" '$1 == f' "$work/listing.tsv" > "$work/select.tsv"
        fi
        return
    fi
    sf_weights=''
    if [ -n "$(have '[.]safetensors$')" ]; then
        sf_weights='[.]safetensors$'
    else
        sf_pickles=$(have "$pickle_ere" | grep -Ev "$not_weights_ere")
        if [ -n "$sf_pickles" ]; then
            if [ "$allow_unsafe" != true ]; then
                sf_count=$(printf '%s\n' "$sf_pickles" | wc -l | tr -d ' ')
                sf_first=$(printf '%s\n' "$sf_pickles" | head -n1)
                die 65 "$repo_id@$revision has only pickle weights ($sf_first, $sf_count file(s)); refusing them unless GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true"
            fi
            sf_weights=$pickle_ere
        elif [ -n "$(have '[.]gguf$')" ]; then
            die 65 "$repo_id@$revision has no safetensors weights, only GGUF files: serve it with GPUPOOL_ENGINE=llamacpp and GPUPOOL_MODEL_FILE"
        else
            die 65 "$repo_id@$revision has no safetensors weights to serve"
        fi
    fi
    sf_small='[.](json|txt|model|tiktoken|jinja|vocab|spm)$'
    if [ "$remote_code" = true ]; then
        sf_small='[.](json|txt|model|tiktoken|jinja|vocab|spm|py)$'
    fi
    awk -F "$tab" -v small="$sf_small" '$1 !~ /^original\// && $1 ~ small' "$work/listing.tsv" > "$work/select.tsv"
    awk -F "$tab" -v w="$sf_weights" -v nw="$not_weights_ere" '$1 !~ /^original\// && $1 ~ w && $1 !~ nw' \
        "$work/listing.tsv" > "$work/weights.tsv"
}

# download_file NAME SIZE SHA256: into the snapshot, through NAME.part, resuming with range requests.
download_file() {
    df_name=$1
    df_size=$2
    df_sha=$3
    df_dest=$snapshot/$df_name
    df_part=$df_dest.part
    if [ -f "$df_dest" ]; then
        if [ "$df_size" = - ] || [ "$(file_size "$df_dest")" = "$df_size" ]; then
            return 0
        fi
        rm -f "$df_dest"
    fi
    mkdir -p "$(dirname "$df_dest")" || die 73 "cannot create $(show "$(dirname "$df_dest")")"
    df_url=$hf_endpoint/$org/$name/resolve/$rev_url/$df_name
    df_attempt=1
    df_checked=0
    while :; do
        df_have=$(file_size "$df_part")
        if [ "$df_size" != - ] && [ "$df_have" -gt "$df_size" ]; then
            rm -f "$df_part"
            df_have=-1
        fi
        df_done=false
        if [ "$df_size" != - ] && [ "$df_have" = "$df_size" ]; then
            df_done=true
        else
            if [ "$df_have" -gt 0 ]; then
                log "resuming $df_name at byte $df_have"
            else
                log "downloading $df_name"
            fi
            fetch "$df_url" "$df_part" -C -
            df_rc=$?
            if [ "$df_rc" -eq 0 ]; then
                df_done=true
            elif [ "$http_code" = 416 ] && [ "$df_size" = - ] && [ "$df_have" -gt 0 ]; then
                df_done=true # the range starts at the end: the part file is already whole
            else
                case $http_code in
                    401 | 403) die 69 "downloading $df_name of $repo_id@$revision was denied (HTTP $http_code): gated or private, set HF_TOKEN" ;;
                    404) die 69 "$df_name of $repo_id@$revision was not found (HTTP 404)" ;;
                esac
                if [ "$df_rc" -eq 33 ]; then
                    rm -f "$df_part" # the server cannot resume: start over
                fi
                df_error="downloading $df_name of $repo_id@$revision failed (curl exit $df_rc, HTTP ${http_code:-000})"
            fi
        fi
        if [ "$df_done" = true ]; then
            df_have=$(file_size "$df_part")
            if [ "$df_size" != - ] && [ "$df_have" != "$df_size" ]; then
                df_done=false
                df_error="$df_name of $repo_id@$revision has $df_have bytes, the listing says $df_size"
                rm -f "$df_part"
            elif [ "$df_sha" != - ] && command -v sha256sum > /dev/null 2>&1; then
                df_got=$(sha256sum < "$df_part" | cut -d' ' -f1)
                if [ "$df_got" != "$df_sha" ]; then
                    df_done=false
                    df_error="$df_name of $repo_id@$revision does not match its sha256"
                    rm -f "$df_part"
                    df_checked=$((df_checked + 1))
                    if [ "$df_checked" -ge 2 ]; then
                        die 69 "$df_error"
                    fi
                fi
            fi
        fi
        if [ "$df_done" = true ]; then
            mv -f "$df_part" "$df_dest" || die 73 "cannot move $(show "$df_part") into place"
            return 0
        fi
        if [ "$df_attempt" -ge 5 ]; then
            die 69 "$df_error"
        fi
        nap "$df_attempt"
        df_attempt=$((df_attempt + 1))
    done
}

if [ "$hit" = false ] && ! snapshot_complete "$snapshot"; then
    select_files
    lock_acquire "$repo_root/.lock"
    if snapshot_complete "$snapshot"; then
        log "another replica downloaded $repo_id@$commit ($profile): reusing it"
    else
        mkdir -p "$snapshot" || die 73 "cannot create $(show "$snapshot")"
        while IFS=$tab read -r d_name d_size d_sha; do
            download_file "$d_name" "$d_size" "$d_sha"
        done < "$work/select.tsv"
        if [ -f "$work/weights.tsv" ]; then
            # A sharded safetensors checkpoint names its shards in model.safetensors.index.json: fetch only those
            # (repositories often carry a second copy, e.g. consolidated.safetensors).
            if [ -f "$snapshot/model.safetensors.index.json" ] && grep -q '\.safetensors$' "$work/weights.tsv"; then
                tr -d '\r\n' < "$snapshot/model.safetensors.index.json" | grep -o '"[^"]*\.safetensors"' |
                    tr -d '"' | sort -u > "$work/indexed.txt"
                if [ -s "$work/indexed.txt" ]; then
                    awk -F "$tab" 'NR == FNR { keep[$0] = 1; next } ($1 in keep) || ($1 !~ /\.safetensors$/)' \
                        "$work/indexed.txt" "$work/weights.tsv" > "$work/weights.kept"
                    mv "$work/weights.kept" "$work/weights.tsv"
                fi
            fi
            while IFS=$tab read -r d_name d_size d_sha; do
                download_file "$d_name" "$d_size" "$d_sha"
            done < "$work/weights.tsv"
            cat "$work/weights.tsv" >> "$work/select.tsv"
        fi
        cut -f1,2 "$work/select.tsv" > "$snapshot/.gpupool-complete-$profile.tmp.$$" &&
            mv "$snapshot/.gpupool-complete-$profile.tmp.$$" "$snapshot/.gpupool-complete-$profile" ||
            die 73 "cannot write the manifest in $(show "$snapshot")"
        log "downloaded $repo_id@$commit ($profile) into $snapshot"
    fi
    lock_release
else
    log "cache hit: $repo_id@$commit ($profile) is complete in $snapshot"
fi

# ---------------------------------------------------------------------------------------------------------------------
# Engine arguments.

if [ "$engine" = vllm ]; then
    quant_method=''
    if [ -f "$snapshot/config.json" ]; then
        quant_method=$(tr -d '\r\n' < "$snapshot/config.json" |
            sed -n 's/^.*"quant_method"[[:space:]]*:[[:space:]]*"\([^"]*\)".*$/\1/p')
    fi
    set -- "$engine_bin" serve "$snapshot" \
        --served-model-name "$served_name" \
        --host 0.0.0.0 \
        --port "$port" \
        --tensor-parallel-size "$tp" \
        --max-model-len "$max_len"
    # A checkpoint that is already quantized (config.json quantization_config) is loaded as it is; otherwise vLLM
    # quantizes on load where it can (fp8 dynamic, bitsandbytes 4-bit). There is no int8 quantization on load.
    case $dtype in
        bf16) set -- "$@" --dtype bfloat16 ;;
        fp16) set -- "$@" --dtype float16 ;;
        fp8) [ -n "$quant_method" ] || set -- "$@" --quantization fp8 ;;
        int4) [ -n "$quant_method" ] || set -- "$@" --quantization bitsandbytes ;;
        int8)
            if [ -z "$quant_method" ]; then
                die 65 "GPUPOOL_DTYPE=int8 needs a pre-quantized checkpoint, and $repo_id@$revision has no quantization_config in config.json"
            fi
            ;;
    esac
    set -- "$@" --gpu-memory-utilization "$gpu_util" --download-dir "$cache"
    if [ "$allow_unsafe" != true ]; then
        set -- "$@" --load-format safetensors
    fi
else
    set -- "$engine_bin" -m "$snapshot/$model_file" \
        --host 0.0.0.0 \
        --port "$port" \
        -c "$max_len" \
        -ngl 999 \
        --alias "$served_name" \
        --metrics \
        --no-slots
    if [ "$tp" -eq 1 ]; then
        set -- "$@" --split-mode none
    else
        split=1
        i=1
        while [ "$i" -lt "$tp" ]; do
            split=$split,1
            i=$((i + 1))
        done
        set -- "$@" --split-mode layer --tensor-split "$split"
    fi
fi
eval "set -- \"\$@\" $extra_args"

trap - EXIT TERM INT
cleanup
# The engine needs nothing more from the hub: the model is local. Keep the token away from model code.
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN
HF_HUB_OFFLINE=1
export HF_HUB_OFFLINE
log "starting $engine: $*"
exec "$@"
