#!/bin/sh
# gpupool inference entrypoint: turns the operator's description of a replica (the GPUPOOL_* environment of
# io.gpupool.core.render.ServingContract, plus extra engine arguments as the container's args) into a running
# OpenAI-compatible server. It validates the contract, downloads the model into the (possibly node-shared) cache,
# builds the engine's arguments and execs the engine, so that SIGTERM reaches the engine directly.
#
# POSIX sh on purpose: both base images (vllm/vllm-openai, llama.cpp server-cuda; Ubuntu, /bin/sh is dash) have it.
# Besides shell builtins it runs curl, awk, sed, tr, cut, wc, cat, id, sleep, mkdir, mktemp, mv, rm (flock and
# sha256sum when present); the validation and a warm start (model already cached) use builtins only, so a restart
# costs milliseconds before the engine starts.
#
# Every failure prints ONE line on stderr ("gpupool-entrypoint: ...", also written to /dev/termination-log) and exits
# non-zero; README.md lists the exit codes. Progress goes to stdout.
#
# Knobs outside the operator's contract (never rendered by the operator; production works without them):
#   GPUPOOL_VLLM_BIN, GPUPOOL_LLAMA_SERVER_BIN   engine executables (default: vllm / llama-server on PATH)
#   GPUPOOL_TEST_GPU_COUNT                       visible GPU count, overriding CUDA/NVIDIA_VISIBLE_DEVICES, nvidia-smi
#   GPUPOOL_TEST_LOCK_MODE                       flock | mkdir (default: flock when installed, else mkdir)
#   GPUPOOL_TEST_LOCK_STALE_SECONDS              mkdir lock: seconds without heartbeat before it is stale (60)

set -uf
LC_ALL=C
export LC_ALL
umask 022

prog=gpupool-entrypoint
nl='
'
tab='	'

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
            # Removing the directory first ends the heartbeat by itself within a second, even if the kill below
            # reaches it before it is ready for signals.
            rm -rf "$lock_held"
            if [ -n "$beat_pid" ]; then
                kill "$beat_pid" 2> /dev/null
                wait "$beat_pid" 2> /dev/null
                beat_pid=''
            fi
            ;;
    esac
    lock_held=''
}

cleanup() {
    if [ -n "$curl_pid" ]; then kill "$curl_pid" 2> /dev/null; curl_pid=''; fi
    if [ -n "$wait_pid" ]; then kill "$wait_pid" 2> /dev/null; wait_pid=''; fi
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
        printf '%s\n' "$die_msg" > /dev/termination-log 2> /dev/null
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

# A relative path inside a repository: safe characters, no empty, "." or ".." segment, no leading or trailing slash.
safe_repo_path() {
    case $1 in '' | *[!A-Za-z0-9._+/-]* | /* | */ | *//*) return 1 ;; esac
    case /$1/ in */../* | */./*) return 1 ;; esac
    return 0
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
org=${repo_id%%/*}
name=${repo_id#*/}
case $org/$name in
    "$repo_id") ;;
    *) die 64 "GPUPOOL_MODEL_SOURCE '$(show "$source_url")' is not a hf://<org>/<name> URL" ;;
esac
for part in "$org" "$name"; do
    case $part in
        [A-Za-z0-9]*) ;;
        *) die 64 "GPUPOOL_MODEL_SOURCE '$(show "$source_url")' is not a hf://<org>/<name> URL" ;;
    esac
    case $part in
        *[!A-Za-z0-9._-]*) die 64 "GPUPOOL_MODEL_SOURCE '$(show "$source_url")' is not a hf://<org>/<name> URL" ;;
        *..*) die 64 "GPUPOOL_MODEL_SOURCE '$(show "$source_url")' must not contain '..'" ;;
    esac
done

if [ -z "$revision" ]; then
    die 64 "GPUPOOL_MODEL_REVISION is required (branch, tag or commit)"
fi
if ! safe_repo_path "$revision" || [ "${#revision}" -gt 200 ]; then
    die 64 "GPUPOOL_MODEL_REVISION '$(show "$revision")' is not a valid branch, tag or commit"
fi

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
case $served_name in
    *[![:print:]]*) die 64 "GPUPOOL_SERVED_MODEL_NAME '$(show "$served_name")' must be printable" ;;
esac
if [ "${#served_name}" -gt 256 ]; then
    die 64 "GPUPOOL_SERVED_MODEL_NAME is longer than 256 characters"
fi

case $tp in
    '') die 64 "GPUPOOL_TENSOR_PARALLEL_SIZE is required" ;;
    [1-9] | [1-9][0-9] | [1-9][0-9][0-9]) ;;
    *) die 64 "GPUPOOL_TENSOR_PARALLEL_SIZE '$(show "$tp")' is not a positive integer" ;;
esac

case $max_len in
    '') die 64 "GPUPOOL_MAX_CONTEXT_LENGTH is required" ;;
    0* | *[!0-9]*) die 64 "GPUPOOL_MAX_CONTEXT_LENGTH '$(show "$max_len")' is not a positive integer" ;;
esac
if [ "${#max_len}" -gt 9 ]; then
    die 64 "GPUPOOL_MAX_CONTEXT_LENGTH '$(show "$max_len")' is too large"
fi

case $dtype in
    bf16 | fp16 | fp8 | int8 | int4) ;;
    '') die 64 "GPUPOOL_DTYPE is required (bf16, fp16, fp8, int8 or int4)" ;;
    *) die 64 "GPUPOOL_DTYPE '$(show "$dtype")' is not supported (bf16, fp16, fp8, int8 or int4)" ;;
esac

util_ok=false
case $gpu_util in
    '') die 64 "GPUPOOL_GPU_MEMORY_UTILIZATION is required (a share in (0, 1], e.g. 0.90)" ;;
    1 | 1.0 | 1.00 | 1.000) util_ok=true ;;
    0.?* | .?*)
        util_frac=${gpu_util#*.}
        case $util_frac in
            *[!0-9]*) ;;
            *[1-9]*) [ "${#util_frac}" -le 4 ] && util_ok=true ;;
        esac
        ;;
esac
if [ "$util_ok" != true ]; then
    die 64 "GPUPOOL_GPU_MEMORY_UTILIZATION '$(show "$gpu_util")' is not a share in (0, 1], e.g. 0.90"
fi

case $port in
    '') die 64 "GPUPOOL_PORT is required" ;;
    0* | *[!0-9]*) die 64 "GPUPOOL_PORT '$(show "$port")' is not a TCP port" ;;
esac
if [ "${#port}" -gt 5 ] || [ "$port" -gt 65535 ]; then
    die 64 "GPUPOOL_PORT '$(show "$port")' is not a TCP port"
fi

case $cache in
    '') die 64 "GPUPOOL_CACHE_DIR is required" ;;
    *"$nl"*) die 64 "GPUPOOL_CACHE_DIR must be one line" ;;
    /*) ;;
    *) die 64 "GPUPOOL_CACHE_DIR '$(show "$cache")' is not an absolute path" ;;
esac

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
# Extra engine arguments (the container's args) are appended verbatim after the rendered ones, but the two switches
# that would undo the pool's safety settings are refused unless the contract allows them. "$@" stays untouched until
# the engine's argument list is built at the end.

remote_code_asked=false
expect_load_format=false
for extra_arg in "$@"; do
    load_format_value=''
    if [ "$expect_load_format" = true ]; then
        expect_load_format=false
        load_format_value=$extra_arg
    else
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
remote_code=false
if [ "$allow_remote_code" = true ] && [ "$remote_code_asked" = true ]; then
    remote_code=true
fi

# ---------------------------------------------------------------------------------------------------------------------
# Visible GPUs: tensor parallelism needs that many GPUs in this container.

# count_devices LIST: sets gpus to the number of entries of a comma-separated device list (CUDA stops at "-1").
count_devices() {
    gpus=0
    cd_ifs=$IFS
    IFS=,
    for cd_item in $1; do
        [ "$cd_item" = -1 ] && break
        [ -n "$cd_item" ] && gpus=$((gpus + 1))
    done
    IFS=$cd_ifs
}

# Sets gpus to the visible GPU count, or to '' when nothing tells.
visible_gpus() {
    if [ -n "${GPUPOOL_TEST_GPU_COUNT-}" ]; then
        gpus=$GPUPOOL_TEST_GPU_COUNT
        return
    fi
    if [ "${CUDA_VISIBLE_DEVICES+set}" = set ]; then
        count_devices "$CUDA_VISIBLE_DEVICES"
        return
    fi
    if [ "${NVIDIA_VISIBLE_DEVICES+set}" = set ]; then
        case $NVIDIA_VISIBLE_DEVICES in
            '' | void | none) gpus=0; return ;;
            all | /*) ;; # "all", or the device plugin's volume-mounts strategy: ask nvidia-smi
            *) count_devices "$NVIDIA_VISIBLE_DEVICES"; return ;;
        esac
    fi
    gpus=''
    if command -v nvidia-smi > /dev/null 2>&1; then
        gpus=$(nvidia-smi -L 2> /dev/null | awk '/^GPU / { g++ } /^[[:space:]]*MIG / { m++ } END { print (m > 0 ? m : g + 0) }')
    fi
}

visible_gpus
case $gpus in
    '' | [0-9] | [0-9][0-9] | [0-9][0-9][0-9]) ;;
    *) die 64 "GPUPOOL_TEST_GPU_COUNT '$(show "$gpus")' is not a number" ;;
esac
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
# Engine executable, hub endpoint, cache directory.

if [ "$engine" = vllm ]; then
    engine_bin=${GPUPOOL_VLLM_BIN:-vllm}
else
    engine_bin=${GPUPOOL_LLAMA_SERVER_BIN:-llama-server}
fi
if ! command -v "$engine_bin" > /dev/null 2>&1; then
    die 127 "engine executable '$(show "$engine_bin")' not found on PATH"
fi

hf_endpoint=${HF_ENDPOINT:-https://huggingface.co}
hf_endpoint=${hf_endpoint%/}
case $hf_endpoint in
    *[![:graph:]]*) die 64 "HF_ENDPOINT '$(show "$hf_endpoint")' is not an http(s) URL" ;;
    http://?* | https://?*) ;;
    *) die 64 "HF_ENDPOINT '$(show "$hf_endpoint")' is not an http(s) URL" ;;
esac
case ${HF_TOKEN-} in
    *[!A-Za-z0-9._~+/=-]*) die 64 "HF_TOKEN has characters a Hugging Face token cannot have" ;;
esac

case $revision in
    */*)
        rev_url=$(printf '%s\n' "$revision" | sed 's|/|%2F|g')
        rev_key=$(printf '%s\n' "$revision" | sed 's|/|--|g')
        ;;
    *) rev_url=$revision; rev_key=$revision ;;
esac
if [ "$engine" = vllm ]; then
    profile=vllm
    [ "$allow_unsafe" = true ] && profile=$profile-unsafe
    [ "$remote_code" = true ] && profile=$profile-code
else
    case $model_file in
        */*) profile=gguf-$(printf '%s\n' "$model_file" | sed 's|/|--|g') ;;
        *) profile=gguf-$model_file ;;
    esac
fi

# Cache layout under GPUPOOL_CACHE_DIR:
#   gpupool/hf/<org>/<name>/refs/<revision>              the commit the revision resolved to (offline restarts)
#   gpupool/hf/<org>/<name>/snapshots/<commit>/<files>   the files, as in the repository
#   gpupool/hf/<org>/<name>/snapshots/<commit>/.gpupool-complete-<profile>   what a completed download selected
#   gpupool/hf/<org>/<name>/.lock.flock | .lock.d        the download lock
repo_root=$cache/gpupool/hf/$org/$name
if [ ! -d "$repo_root/snapshots" ] || [ ! -d "$repo_root/refs" ]; then
    mkdir -p "$repo_root/refs" "$repo_root/snapshots" 2> /dev/null
fi
if [ ! -d "$repo_root/snapshots" ] || [ ! -w "$repo_root/snapshots" ]; then
    die 73 "GPUPOOL_CACHE_DIR '$(show "$cache")' is not writable by uid $(id -u) (mount a writable volume there)"
fi
if [ -n "${HF_HOME-}" ] && [ ! -d "$HF_HOME" ]; then
    mkdir -p "$HF_HOME" 2> /dev/null || log "warning: HF_HOME '$(show "$HF_HOME")' cannot be created"
fi

# snapshot_complete DIR: this profile's manifest exists and every file it names is there. Files only get their final
# name once downloaded and verified, and a snapshot is keyed by its commit, so presence is enough.
snapshot_complete() {
    sc_manifest=$1/.gpupool-complete-$profile
    [ -f "$sc_manifest" ] || return 1
    while IFS=$tab read -r sc_name sc_rest; do
        [ -z "$sc_name" ] || [ -f "$1/$sc_name" ] || return 1
    done < "$sc_manifest"
    return 0
}

commit=''
snapshot=''
hit=false
case $revision in
    [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f])
        # A commit cannot move: a complete snapshot needs no request at all.
        if snapshot_complete "$repo_root/snapshots/$revision"; then
            commit=$revision
            snapshot=$repo_root/snapshots/$commit
            hit=true
        fi
        ;;
esac

# ---------------------------------------------------------------------------------------------------------------------
# Network: the Hugging Face layout. GET {HF_ENDPOINT}/api/models/{org}/{name}/revision/{rev}?blobs=true lists the
# files (siblings[].rfilename, with size and lfs.sha256 where the hub gives them); a file is at
# {HF_ENDPOINT}/{org}/{name}/resolve/{rev}/{file}.

# Creates the work directory and curl's configuration: options in a file, so that the token never appears on a
# command line (ps, /proc/*/cmdline). curl drops a custom Authorization header when a redirect leaves the host (the
# hub redirects file downloads to its CDN); -q in front of -K ignores any ~/.curlrc.
prepare_network() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/gpupool-entrypoint.XXXXXX" 2> /dev/null) || {
        work=''
        die 73 "cannot create a temporary directory in ${TMPDIR:-/tmp} (mount a writable emptyDir at /tmp)"
    }
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
}

# fetch URL OUTFILE [curl options...]: curl in the background so that SIGTERM is handled while it runs; sets
# http_code; returns curl's exit status.
fetch() {
    fetch_url=$1
    fetch_out=$2
    shift 2
    http_code=''
    curl -q -K "$curl_cfg" -w '%{http_code}' -o "$fetch_out" "$@" "$fetch_url" > "$work/code" 2> /dev/null &
    curl_pid=$!
    wait "$curl_pid"
    fetch_rc=$?
    curl_pid=''
    read -r http_code 2> /dev/null < "$work/code"
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

# fetch_listing: api.json, or fl_error and fl_refused=true when the hub answered no (then no cached copy is served).
fetch_listing() {
    fl_url="$hf_endpoint/api/models/$org/$name/revision/$rev_url?blobs=true"
    fl_attempt=1
    fl_refused=false
    while :; do
        fetch "$fl_url" "$work/api.json" --max-time 120 && return 0
        fl_rc=$?
        case $http_code in
            401 | 403)
                fl_error="access to $repo_id@$revision was denied by $hf_endpoint (HTTP $http_code): gated or private, set HF_TOKEN"
                fl_refused=true
                return 1
                ;;
            404)
                fl_error="$repo_id@$revision was not found on $hf_endpoint (HTTP 404)"
                fl_refused=true
                return 1
                ;;
            000 | '') fl_error="cannot reach $hf_endpoint to list $repo_id@$revision (curl exit $fl_rc)" ;;
            *) fl_error="listing $repo_id@$revision on $hf_endpoint failed (HTTP $http_code)" ;;
        esac
        [ "$fl_attempt" -ge 3 ] && return 1
        nap 1
        fl_attempt=$((fl_attempt + 1))
    done
}

# parse_listing: prints the commit (sha) of the listing and writes listing.tsv: name TAB size TAB sha256 ("-" when
# unknown), for the file names that are safe relative paths; hostile names (.., absolute, quotes, spaces) are dropped.
parse_listing() {
    awk -v out="$work/listing.tsv" '
        BEGIN { printf "" > out }
        { json = json $0 }
        END {
            gsub(/\r/, "", json)
            rest = json
            sib = ""
            p = index(json, "\"siblings\"")
            if (p > 0) {
                after = substr(json, p + 10)
                if (match(after, /^[[:space:]]*:[[:space:]]*\[/)) {
                    after = substr(after, RLENGTH + 1)
                    q = index(after, "]")
                    if (q > 0) {
                        sib = substr(after, 1, q - 1)
                        rest = substr(json, 1, p - 1) substr(after, q + 1)
                    }
                }
            }
            sha = ""
            if (match(rest, /"sha"[[:space:]]*:[[:space:]]*"[0-9a-f]+"/)) {
                sha = substr(rest, RSTART, RLENGTH)
                sub(/^"sha"[[:space:]]*:[[:space:]]*"/, "", sha)
                sub(/"$/, "", sha)
                if (length(sha) != 40) sha = ""
            }
            print sha
            n = split(sib, recs, /"rfilename"/)
            for (i = 2; i <= n; i++) {
                r = recs[i]
                if (!match(r, /^[[:space:]]*:[[:space:]]*"[^"]*"/)) continue
                f = substr(r, RSTART, RLENGTH)
                sub(/^[[:space:]]*:[[:space:]]*"/, "", f)
                sub(/"$/, "", f)
                if (f !~ /^[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*$/) continue
                if (("/" f "/") ~ /\/\.\.?\//) continue
                size = "-"
                if (match(r, /"size"[[:space:]]*:[[:space:]]*[0-9]+/)) {
                    size = substr(r, RSTART, RLENGTH)
                    sub(/^.*:[[:space:]]*/, "", size)
                }
                digest = "-"
                if (match(r, /"sha256"[[:space:]]*:[[:space:]]*"[0-9a-f]+"/)) {
                    digest = substr(r, RSTART, RLENGTH)
                    sub(/^.*:[[:space:]]*"/, "", digest)
                    sub(/"$/, "", digest)
                }
                print f "\t" size "\t" digest > out
            }
        }' "$work/api.json"
}

if [ "$hit" = false ]; then
    prepare_network
    if fetch_listing; then
        commit=$(parse_listing) || die 70 "cannot parse the listing of $repo_id@$revision"
        [ -n "$commit" ] || commit=rev-$rev_key
        cached_commit=''
        read -r cached_commit 2> /dev/null < "$repo_root/refs/$rev_key"
        if [ "$cached_commit" != "$commit" ]; then
            printf '%s\n' "$commit" > "$repo_root/refs/$rev_key.tmp.$$" &&
                mv -f "$repo_root/refs/$rev_key.tmp.$$" "$repo_root/refs/$rev_key"
        fi
        snapshot=$repo_root/snapshots/$commit
        snapshot_complete "$snapshot" && hit=true
    else
        # The hub is unreachable or failing (not refusing): a complete snapshot of this revision still serves.
        cached_commit=''
        read -r cached_commit 2> /dev/null < "$repo_root/refs/$rev_key"
        if [ "$fl_refused" = false ] && [ -n "$cached_commit" ] &&
            snapshot_complete "$repo_root/snapshots/$cached_commit"; then
            log "warning: $fl_error; serving the cached $repo_id@$cached_commit"
            commit=$cached_commit
            snapshot=$repo_root/snapshots/$commit
            hit=true
        else
            die 69 "$fl_error"
        fi
    fi
fi

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
case $lock_stale in
    '' | 0* | *[!0-9]*) die 64 "GPUPOOL_TEST_LOCK_STALE_SECONDS '$(show "$lock_stale")' is not a positive integer" ;;
esac

lock_acquire() {
    lock_path=$1
    if [ "$lock_mode" = flock ]; then
        : 2> /dev/null >> "$lock_path.flock" || die 73 "cannot open the lock file $(show "$lock_path.flock")"
        exec 9>> "$lock_path.flock"
        lock_held=flock
        if ! flock -n 9; then
            log "waiting for another replica on this node to finish downloading $repo_id"
            # In the background so that SIGTERM is handled; the lock belongs to fd 9, which the child shares.
            flock 9 &
            wait_pid=$!
            wait "$wait_pid" || { wait_pid=''; die 69 "cannot lock $(show "$lock_path.flock")"; }
            wait_pid=''
        fi
        return
    fi
    lock_waited=false
    last_beat=''
    unchanged=0
    while ! mkdir "$lock_path.d" 2> /dev/null; do
        if [ "$lock_waited" = false ]; then
            log "waiting for another replica on this node to finish downloading $repo_id"
            lock_waited=true
        fi
        beat=''
        read -r beat 2> /dev/null < "$lock_path.d/beat"
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
    # The heartbeat runs while this replica's owner file is in the lock directory (not a later holder's).
    lock_owner=$lock_path.d/owner-${work##*/}
    : > "$lock_owner"
    echo 0 > "$lock_path.d/beat"
    (
        n=0
        while [ -f "$lock_owner" ]; do
            n=$((n + 1))
            echo "$n" 2> /dev/null > "$lock_path.d/beat"
            sleep 1
        done
    ) &
    beat_pid=$!
}

# ---------------------------------------------------------------------------------------------------------------------
# Download.

# select_files: select.tsv (small files) and weights.tsv (weights) from listing.tsv, or one line of refusal.
select_files() {
    sf_status=$(awk -F "$tab" -v engine="$engine" -v unsafe="$allow_unsafe" -v code="$remote_code" \
        -v file="$model_file" -v sel="$work/select.tsv" -v wts="$work/weights.tsv" '
        { name[NR] = $1; row[NR] = $0; n = NR }
        END {
            printf "" > sel
            printf "" > wts
            if (engine == "llamacpp") {
                # Only the named GGUF file, with the other parts of a split GGUF (name-0000k-of-0000n.gguf).
                prefix = ""
                if (match(file, /-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9][.]gguf$/)) {
                    prefix = substr(file, 1, RSTART - 1)
                    parts = substr(file, RSTART + 10, 5)
                }
                found = 0
                for (i = 1; i <= n; i++) {
                    f = name[i]
                    if (f == file) found = 1
                    if (f == file || (prefix != "" && substr(f, 1, length(prefix) + 1) == prefix "-" &&
                            substr(f, length(prefix) + 2) ~ ("^[0-9][0-9][0-9][0-9][0-9]-of-" parts "[.]gguf$")))
                        print row[i] > wts
                }
                print (found ? "ok" : "missing")
                exit
            }
            pickle = "[.](bin|pt|pth|pkl|pickle|ckpt)$"
            notweights = "(^|/)(training_args[.]bin|optimizer[.]pt|scheduler[.]pt|rng_state[^/]*[.]pth)$"
            st = 0; pk = 0; gg = 0; first = ""
            for (i = 1; i <= n; i++) {
                f = name[i]
                if (f ~ /^original\//) continue
                if (f ~ /[.]safetensors$/) st++
                else if (f ~ pickle && f !~ notweights) { pk++; if (first == "") first = f }
                else if (f ~ /[.]gguf$/) gg++
            }
            if (st == 0 && pk > 0 && unsafe != "true") { print "pickle-only " pk " " first; exit }
            if (st == 0 && pk == 0) { print (gg > 0 ? "gguf-only" : "no-weights"); exit }
            small = "[.](json|txt|model|tiktoken|jinja|vocab|spm)$"
            if (code == "true") small = "[.](json|txt|model|tiktoken|jinja|vocab|spm|py)$"
            for (i = 1; i <= n; i++) {
                f = name[i]
                if (f ~ /^original\//) continue
                if (f ~ small) print row[i] > sel
                else if (st > 0 && f ~ /[.]safetensors$/) print row[i] > wts
                else if (st == 0 && f ~ pickle && f !~ notweights) print row[i] > wts
            }
            print "ok"
        }' "$work/listing.tsv")
    case $sf_status in
        ok) ;;
        missing) die 65 "GPUPOOL_MODEL_FILE '$(show "$model_file")' is not in $repo_id@$revision" ;;
        pickle-only*)
            set -- $sf_status
            die 65 "$repo_id@$revision has only pickle weights ($3, $2 file(s)); refusing them unless GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true"
            ;;
        gguf-only) die 65 "$repo_id@$revision has no safetensors weights, only GGUF files: serve it with GPUPOOL_ENGINE=llamacpp and GPUPOOL_MODEL_FILE" ;;
        no-weights) die 65 "$repo_id@$revision has no safetensors weights to serve" ;;
        *) die 70 "cannot select the files of $repo_id@$revision" ;;
    esac
}

# download_file NAME SIZE SHA256: into the snapshot, through NAME.part, resuming with range requests; the file gets its
# final name only when its size (and sha256, when the hub gives one) is right.
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
    case $df_name in
        */*) mkdir -p "${df_dest%/*}" || die 73 "cannot create $(show "${df_dest%/*}")" ;;
    esac
    df_url=$hf_endpoint/$org/$name/resolve/$rev_url/$df_name
    df_attempt=1
    df_bad_digest=0
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
            if fetch "$df_url" "$df_part" -C -; then
                df_done=true
            else
                df_rc=$?
                case $http_code in
                    401 | 403) die 69 "downloading $df_name of $repo_id@$revision was denied (HTTP $http_code): gated or private, set HF_TOKEN" ;;
                    404) die 69 "$df_name of $repo_id@$revision was not found (HTTP 404)" ;;
                    416) [ "$df_size" = - ] && [ "$df_have" -gt 0 ] && df_done=true ;; # the part is already whole
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
                # In the background, like curl: hashing a large shard takes a while and SIGTERM must not wait.
                df_got=''
                sha256sum < "$df_part" > "$work/digest" &
                wait_pid=$!
                wait "$wait_pid"
                wait_pid=''
                read -r df_got 2> /dev/null < "$work/digest"
                if [ "${df_got%% *}" != "$df_sha" ]; then
                    df_done=false
                    df_error="$df_name of $repo_id@$revision does not match its sha256"
                    rm -f "$df_part"
                    df_bad_digest=$((df_bad_digest + 1))
                    [ "$df_bad_digest" -ge 2 ] && die 69 "$df_error"
                fi
            fi
        fi
        if [ "$df_done" = true ]; then
            mv -f "$df_part" "$df_dest" || die 73 "cannot move $(show "$df_part") into place"
            return 0
        fi
        [ "$df_attempt" -ge 5 ] && die 69 "$df_error"
        nap "$df_attempt"
        df_attempt=$((df_attempt + 1))
    done
}

download_list() {
    while IFS=$tab read -r dl_name dl_size dl_sha; do
        [ -n "$dl_name" ] && download_file "$dl_name" "$dl_size" "$dl_sha"
    done < "$1"
}

if [ "$hit" = true ]; then
    log "cache hit: $repo_id@$commit ($profile) is complete in $snapshot"
else
    select_files
    lock_acquire "$repo_root/.lock"
    if snapshot_complete "$snapshot"; then
        log "another replica downloaded $repo_id@$commit ($profile): reusing it"
    else
        mkdir -p "$snapshot" || die 73 "cannot create $(show "$snapshot")"
        download_list "$work/select.tsv"
        # A sharded safetensors checkpoint names its shards in model.safetensors.index.json: only those are fetched
        # (repositories often carry a second copy of the weights, e.g. consolidated.safetensors).
        if [ "$engine" = vllm ] && [ -f "$snapshot/model.safetensors.index.json" ]; then
            awk -F "$tab" '
                NR == FNR { json = json $0; next }
                FNR == 1 {
                    while (match(json, /"[^"]*[.]safetensors"/)) {
                        keep[substr(json, RSTART + 1, RLENGTH - 2)] = 1
                        kept++
                        json = substr(json, RSTART + RLENGTH)
                    }
                }
                ($1 in keep) || $1 !~ /[.]safetensors$/ || kept == 0
            ' "$snapshot/model.safetensors.index.json" "$work/weights.tsv" > "$work/weights.kept" &&
                mv -f "$work/weights.kept" "$work/weights.tsv"
        fi
        download_list "$work/weights.tsv"
        cat "$work/select.tsv" "$work/weights.tsv" > "$snapshot/.gpupool-complete-$profile.tmp.$$" &&
            mv -f "$snapshot/.gpupool-complete-$profile.tmp.$$" "$snapshot/.gpupool-complete-$profile" ||
            die 73 "cannot write the manifest in $(show "$snapshot")"
        log "downloaded $repo_id@$commit ($profile) into $snapshot"
    fi
    lock_release
fi

# ---------------------------------------------------------------------------------------------------------------------
# The engine's arguments: rendered ones, then the extra arguments ("$@", untouched so far) verbatim. The optional
# groups below hold fixed words only and are split on spaces (globbing is off: set -f).

if [ "$engine" = vllm ]; then
    # Does config.json carry a quantization_config (its "quant_method" key)? Read with builtins: no process start.
    quantized=false
    config_line=''
    if [ -f "$snapshot/config.json" ]; then
        while IFS= read -r config_line || [ -n "$config_line" ]; do
            case $config_line in *'"quant_method"'*) quantized=true; break ;; esac
        done < "$snapshot/config.json"
    fi
    # A checkpoint that is already quantized (config.json quantization_config) is loaded as it is; otherwise vLLM
    # quantizes while loading where it can (fp8 dynamic, bitsandbytes 4-bit). vLLM cannot quantize to int8 on load.
    dtype_args=''
    case $dtype in
        bf16) dtype_args='--dtype bfloat16' ;;
        fp16) dtype_args='--dtype float16' ;;
        fp8) [ "$quantized" = true ] || dtype_args='--quantization fp8' ;;
        int4) [ "$quantized" = true ] || dtype_args='--quantization bitsandbytes' ;;
        int8)
            if [ "$quantized" != true ]; then
                die 65 "GPUPOOL_DTYPE=int8 needs a pre-quantized checkpoint, and $repo_id@$revision has no quantization_config in config.json"
            fi
            ;;
    esac
    load_args='--load-format safetensors'
    [ "$allow_unsafe" = true ] && load_args=''
    # Extra arguments are counted, not logged: they may hold secrets such as --api-key.
    log "starting vllm: $engine_bin serve $snapshot --served-model-name $served_name --port $port --tensor-parallel-size $tp --max-model-len $max_len${dtype_args:+ $dtype_args} --gpu-memory-utilization $gpu_util${load_args:+ $load_args} (+ $# extra argument(s))"
    set -- "$engine_bin" serve "$snapshot" \
        --served-model-name "$served_name" \
        --host 0.0.0.0 \
        --port "$port" \
        --tensor-parallel-size "$tp" \
        --max-model-len "$max_len" \
        $dtype_args \
        --gpu-memory-utilization "$gpu_util" \
        --download-dir "$cache" \
        $load_args \
        "$@"
else
    # One GPU: keep everything on it. Several: split the layers evenly (llama.cpp's "layer" mode works without NVLink;
    # "row" mode is the tensor-parallel one and can be asked for in the extra arguments).
    split_args='--split-mode none'
    if [ "$tp" -gt 1 ]; then
        split_ratio=1
        i=1
        while [ "$i" -lt "$tp" ]; do
            split_ratio=$split_ratio,1
            i=$((i + 1))
        done
        split_args="--split-mode layer --tensor-split $split_ratio"
    fi
    log "starting llamacpp: $engine_bin -m $snapshot/$model_file --port $port -c $max_len -ngl 999 --alias $served_name $split_args (+ $# extra argument(s))"
    set -- "$engine_bin" -m "$snapshot/$model_file" \
        --host 0.0.0.0 \
        --port "$port" \
        -c "$max_len" \
        -ngl 999 \
        --alias "$served_name" \
        --metrics \
        --no-slots \
        $split_args \
        "$@"
fi

trap - EXIT TERM INT
cleanup
# The engine needs nothing more from the hub (the model is local), and model code must not see the token.
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN
HF_HUB_OFFLINE=1
export HF_HUB_OFFLINE
exec "$@"
