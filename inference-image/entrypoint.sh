#!/bin/sh
# gpupool-entrypoint: the thin layer between the operator's description of a replica (the GPUPOOL_* environment of
# io.gpupool.core.render.ServingContract, plus extra engine arguments as the container's args) and the engine. It
# checks the contract, applies the pool's safety rules, has the engine's own loader fetch the model into the standard
# Hugging Face cache $GPUPOOL_CACHE_DIR/hub (vllm: `hf download`; llamacpp: llama-server --hf-repo/--hf-file), which
# replicas sharing a node's cache volume share, and execs the engine so that the kubelet's SIGTERM reaches it.
# A failure prints ONE line on stderr (also in /dev/termination-log) and exits: 64 invalid contract or arguments,
# 65 the repository cannot be served as asked, 69 the download failed, 73 not writable, 127 a program is missing,
# 143 stopped while downloading. See README.md.

set -uf
export LC_ALL=C
prog=gpupool-entrypoint child='' work=''
log() { printf '%s: %s\n' "$prog" "$*"; }
# A value shown in a message: one line, printable, at most 300 characters.
show() { printf '%s' "$1" | tr -c '[:print:]' '?' | cut -c1-300; }

die() { # die CODE MESSAGE...
    code=$1 && shift
    printf '%s: %s\n' "$prog" "$*" >&2
    # Kubernetes shows /dev/termination-log in the container's status (terminationMessagePath).
    [ ! -w /dev/termination-log ] || printf '%s: %s\n' "$prog" "$*" > /dev/termination-log
    [ -z "$work" ] || rm -f "$work"
    exit "$code"
}
need() { die 64 "$1 is required${2:+ ($2)}"; }          # need NAME [HINT]
bad() { die 64 "$1 '$(show "$2")' $3"; }                # bad NAME VALUE WHY

# The entrypoint is PID 1 while it downloads: without a handler the kernel would drop the kubelet's SIGTERM.
on_signal() {
    [ -z "$child" ] || kill "$child" 2> /dev/null
    [ -z "$work" ] || rm -f "$work"
    log "terminated while downloading the model; partial files are resumed on the next start"
    exit 143
}
trap on_signal TERM INT

# A relative path inside a repository: safe characters, no empty, "." or ".." segment, no leading or trailing slash.
safe_repo_path() {
    case $1 in '' | *[!A-Za-z0-9._+/-]* | /* | */ | *//*) return 1 ;; esac
    case /$1/ in */../* | */./*) return 1 ;; esac
}

## The contract, checked before anything is downloaded.

engine=${GPUPOOL_ENGINE-} source_url=${GPUPOOL_MODEL_SOURCE-} revision=${GPUPOOL_MODEL_REVISION-}
model_file=${GPUPOOL_MODEL_FILE-} served_name=${GPUPOOL_SERVED_MODEL_NAME-} tp=${GPUPOOL_TENSOR_PARALLEL_SIZE-}
max_len=${GPUPOOL_MAX_CONTEXT_LENGTH-} dtype=${GPUPOOL_DTYPE-} gpu_util=${GPUPOOL_GPU_MEMORY_UTILIZATION-}
port=${GPUPOOL_PORT-} cache=${GPUPOOL_CACHE_DIR-}
allow_remote_code=${GPUPOOL_ALLOW_REMOTE_CODE-} allow_unsafe=${GPUPOOL_ALLOW_UNSAFE_WEIGHTS-}

case $engine in
    vllm | llamacpp) ;;
    '') need GPUPOOL_ENGINE 'vllm or llamacpp' ;;
    *) bad GPUPOOL_ENGINE "$engine" 'is not supported (vllm or llamacpp)' ;;
esac
case $source_url in
    '') need GPUPOOL_MODEL_SOURCE 'hf://<org>/<name>' ;;
    hf://*) ;;
    *://*) die 64 "GPUPOOL_MODEL_SOURCE scheme '$(show "${source_url%%://*}")://' is not supported (only hf://<org>/<name>)" ;;
    *) bad GPUPOOL_MODEL_SOURCE "$source_url" 'is not a hf://<org>/<name> URL' ;;
esac
repo_id=${source_url#hf://}
case $repo_id in
    *..*) bad GPUPOOL_MODEL_SOURCE "$source_url" "must not contain '..'" ;;
    */*/* | *[!A-Za-z0-9._/-]*) bad GPUPOOL_MODEL_SOURCE "$source_url" 'is not a hf://<org>/<name> URL' ;;
    [A-Za-z0-9]*/[A-Za-z0-9]*) ;;
    *) bad GPUPOOL_MODEL_SOURCE "$source_url" 'is not a hf://<org>/<name> URL' ;;
esac
[ -n "$revision" ] || need GPUPOOL_MODEL_REVISION 'branch, tag or commit'
safe_repo_path "$revision" && [ "${#revision}" -le 200 ] ||
    bad GPUPOOL_MODEL_REVISION "$revision" 'is not a valid branch, tag or commit'
if [ "$engine" = llamacpp ]; then
    [ -n "$model_file" ] || die 64 "GPUPOOL_MODEL_FILE is required with GPUPOOL_ENGINE=llamacpp (the .gguf file to serve)"
    safe_repo_path "$model_file" || bad GPUPOOL_MODEL_FILE "$model_file" 'is not a safe path inside the repository'
    case $model_file in *.gguf) ;; *) bad GPUPOOL_MODEL_FILE "$model_file" 'is not a .gguf file' ;; esac
    # llama.cpp's downloader resolves the repository's main branch; it has no revision option.
    [ "$revision" = main ] || bad GPUPOOL_MODEL_REVISION "$revision" \
        'cannot be served by llama.cpp, whose downloader reads the main branch only (use main)'
elif [ -n "$model_file" ]; then
    die 64 "GPUPOOL_MODEL_FILE is only used with GPUPOOL_ENGINE=llamacpp (vllm serves the whole repository)"
fi
[ -n "$served_name" ] || need GPUPOOL_SERVED_MODEL_NAME
case $served_name in *[![:print:]]*) bad GPUPOOL_SERVED_MODEL_NAME "$served_name" 'must be printable' ;; esac
[ "${#served_name}" -le 256 ] || die 64 "GPUPOOL_SERVED_MODEL_NAME is longer than 256 characters"
case $tp in
    '') need GPUPOOL_TENSOR_PARALLEL_SIZE ;;
    [1-9] | [1-9][0-9] | [1-9][0-9][0-9]) ;;
    *) bad GPUPOOL_TENSOR_PARALLEL_SIZE "$tp" 'is not a positive integer' ;;
esac
case $max_len in
    '') need GPUPOOL_MAX_CONTEXT_LENGTH ;;
    0* | *[!0-9]* | ??????????*) bad GPUPOOL_MAX_CONTEXT_LENGTH "$max_len" 'is not a positive integer below 10^9' ;;
esac
case $dtype in
    bf16 | fp16 | fp8 | int8 | int4) ;;
    '') need GPUPOOL_DTYPE 'bf16, fp16, fp8, int8 or int4' ;;
    *) bad GPUPOOL_DTYPE "$dtype" 'is not supported (bf16, fp16, fp8, int8 or int4)' ;;
esac
share='is not a share in (0, 1], e.g. 0.90'
case $gpu_util in
    '') need GPUPOOL_GPU_MEMORY_UTILIZATION 'a share in (0, 1], e.g. 0.90' ;;
    1 | 1.0 | 1.00 | 1.000 | 1.0000) ;;
    0.*[1-9]* | .*[1-9]*) case ${gpu_util#*.} in ?????* | *[!0-9]*) bad GPUPOOL_GPU_MEMORY_UTILIZATION "$gpu_util" "$share" ;; esac ;;
    *) bad GPUPOOL_GPU_MEMORY_UTILIZATION "$gpu_util" "$share" ;;
esac
case $port in
    '') need GPUPOOL_PORT ;;
    0* | *[!0-9]* | ??????*) bad GPUPOOL_PORT "$port" 'is not a TCP port' ;;
esac
[ "$port" -le 65535 ] || bad GPUPOOL_PORT "$port" 'is not a TCP port'
case $cache in
    '') need GPUPOOL_CACHE_DIR ;;
    /*[![:print:]]*) die 64 "GPUPOOL_CACHE_DIR must be one line of printable characters" ;;
    /*) ;;
    *) bad GPUPOOL_CACHE_DIR "$cache" 'is not an absolute path' ;;
esac

for flag in GPUPOOL_ALLOW_REMOTE_CODE="$allow_remote_code" GPUPOOL_ALLOW_UNSAFE_WEIGHTS="$allow_unsafe"; do
    case ${flag#*=} in
        true | false) ;;
        '') need "${flag%%=*}" 'true or false' ;;
        *) bad "${flag%%=*}" "${flag#*=}" 'must be true or false' ;;
    esac
done

## Safety rules: nothing in the extra arguments or the environment may undo what the contract forbids. The operator's
# validation refuses the same; this is the last line, on the contributor's node.

# Environment variables that make Python or the dynamic linker load code the image does not ship.
for var in LD_PRELOAD LD_AUDIT PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONUSERBASE; do
    eval "value=\${$var-}"
    [ -z "$value" ] || [ "$allow_remote_code" = true ] ||
        die 64 "environment variable $var needs GPUPOOL_ALLOW_REMOTE_CODE=true (it loads code the image does not ship)"
done
[ -z "${VLLM_ALLOW_INSECURE_SERIALIZATION-}" ] || [ "$allow_unsafe" = true ] ||
    die 64 "environment variable VLLM_ALLOW_INSECURE_SERIALIZATION needs GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true (it unpickles data)"

# argparse (vLLM) takes unambiguous prefixes, '_' for '-' and '--flag=value', so flags are matched in all spellings.
check_load_format() {
    case $1 in
        safetensors | fastsafetensors | runai_streamer | runai_streamer_sharded | mistral) ;;
        *) [ "$allow_unsafe" = true ] || die 64 "extra argument --load-format '$(show "$1")' needs GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true (only safetensors formats are allowed)" ;;
    esac
}
remote_code=false expect_load_format=false
for arg in "$@"; do
    if [ "$expect_load_format" = true ]; then
        expect_load_format=false
        check_load_format "$arg"
        continue
    fi
    case $arg in
        --trust[-_]rem*)
            [ "$allow_remote_code" = true ] || die 64 "extra argument '$(show "$arg")' needs GPUPOOL_ALLOW_REMOTE_CODE=true (it runs code shipped with the model)"
            remote_code=true ;;
        --load[-_]f*=*) check_load_format "${arg#*=}" ;;
        --load[-_]f*) expect_load_format=true ;;
        # A config file can set any flag, --trust-remote-code and --load-format included.
        --config | --config=*)
            [ "$allow_remote_code" = true ] && [ "$allow_unsafe" = true ] ||
                die 64 "extra argument '$(show "$arg")' needs GPUPOOL_ALLOW_REMOTE_CODE=true and GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true (a config file can set any flag)" ;;
    esac
done

## Visible GPUs: tensor parallelism needs that many GPUs in this container.

count_list() { # a comma-separated device list; CUDA stops at "-1"
    gpus=0 old_ifs=$IFS
    IFS=,
    for item in $1; do
        [ "$item" != -1 ] || break
        [ -z "$item" ] || gpus=$((gpus + 1))
    done
    IFS=$old_ifs
}
gpus=''
if [ "${CUDA_VISIBLE_DEVICES+set}" = set ]; then
    count_list "$CUDA_VISIBLE_DEVICES"
elif [ "${NVIDIA_VISIBLE_DEVICES+set}" = set ] && [ "${NVIDIA_VISIBLE_DEVICES}" != all ]; then
    case $NVIDIA_VISIBLE_DEVICES in
        '' | void | none) gpus=0 ;;
        /*) ;; # the device plugin's volume-mounts strategy: ask nvidia-smi
        *) count_list "$NVIDIA_VISIBLE_DEVICES" ;;
    esac
fi
if [ -z "$gpus" ] && command -v nvidia-smi > /dev/null 2>&1; then
    gpus=$(nvidia-smi -L 2> /dev/null | awk '/^GPU / { g++ } /^[[:space:]]*MIG / { m++ } END { print (m > 0 ? m : g + 0) }')
fi
if [ -z "$gpus" ]; then
    [ "$tp" -eq 1 ] || die 64 "GPUPOOL_TENSOR_PARALLEL_SIZE=$tp but the visible GPUs cannot be counted (no CUDA_VISIBLE_DEVICES, NVIDIA_VISIBLE_DEVICES or nvidia-smi)"
elif [ "$engine" = llamacpp ] && [ "$tp" -eq 1 ] && [ "$gpus" -eq 0 ]; then
    log "no GPU visible: llama.cpp runs on the CPU"
elif [ "$tp" -gt "$gpus" ]; then
    die 64 "GPUPOOL_TENSOR_PARALLEL_SIZE=$tp exceeds the $gpus visible GPU(s)"
fi

## The standard Hugging Face cache on the cache volume, and the programs.

hub_cache=$cache/hub
mkdir -p "$hub_cache" 2> /dev/null
[ -d "$hub_cache" ] && [ -w "$hub_cache" ] ||
    die 73 "GPUPOOL_CACHE_DIR '$(show "$cache")' is not writable by uid $(id -u) (mount a writable volume there)"
export HF_HUB_CACHE="$hub_cache"

if [ "$engine" = vllm ]; then programs='vllm hf'; else programs=llama-server; fi
for program in $programs; do
    command -v "$program" > /dev/null 2>&1 || die 127 "'$program' not found on PATH"
done

if [ "$engine" = llamacpp ]; then
    # One GPU: keep everything on it. Several: split the layers evenly (llama.cpp's "layer" mode works without NVLink;
    # "row" mode can be asked for in the extra arguments).
    split_args='--split-mode none' ratio=1 i=1
    while [ "$i" -lt "$tp" ]; do ratio=$ratio,1 i=$((i + 1)); done
    [ "$tp" -eq 1 ] || split_args="--split-mode layer --tensor-split $ratio"
    # llama.cpp downloads the file (and the other parts of a split GGUF) itself, resuming and reusing the cache, and
    # reads HF_TOKEN and HF_ENDPOINT. It runs no code shipped with a model, so it keeps the token.
    export LLAMA_CACHE="$hub_cache"
    log "starting llama-server --hf-repo $repo_id --hf-file $model_file --port $port -c $max_len -ngl 999 --alias $served_name $split_args (+ $# extra argument(s))"
    exec llama-server --hf-repo "$repo_id" --hf-file "$model_file" --host 0.0.0.0 --port "$port" -c "$max_len" \
        -ngl 999 --alias "$served_name" --metrics --no-slots $split_args "$@"
fi

## vLLM: `hf download` fetches what the rules allow into the standard cache, then vLLM loads the local snapshot.

work=$(mktemp "${TMPDIR:-/tmp}/gpupool-hf.XXXXXX" 2> /dev/null) ||
    die 73 "cannot create a file in ${TMPDIR:-/tmp} (mount a writable emptyDir at /tmp)"

# hf_download ARGS...: sets snapshot to the snapshot directory hf prints last; hf's last line is the error otherwise.
# In the background, so that SIGTERM is handled while it runs.
hf_download() {
    hf download "$repo_id" "$@" --quiet > "$work" 2>&1 &
    child=$!
    wait "$child"
    rc=$? child=''
    last=$(tail -n 1 "$work")
    if [ "$rc" -ne 0 ]; then
        # hf ends with the exception; its message may go on over more lines (e.g. why a gated repository refused).
        error=$(grep 'Error' "$work" | tail -n 1)
        [ "$error" = "$last" ] || error="${error:+$error }$last"
        die 69 "hf download of $repo_id@$revision failed (exit $rc): $(show "$error")"
    fi
    snapshot=$last
    [ -d "$snapshot" ] || die 69 "hf download of $repo_id@$revision printed no snapshot directory: $(show "$last")"
}
have() { [ -n "$(find "$snapshot" -name "$1" 2> /dev/null | head -n 1)" ]; }

# Config, tokenizer and chat template; code only when remote code is allowed and asked for. Never original/ (another
# copy of the weights in some repositories).
small='*.json *.txt *.model *.tiktoken *.jinja *.vocab *.spm'
[ "$remote_code" = false ] || small="$small *.py"
log "downloading $repo_id@$revision into $hub_cache"
hf_download --revision "$revision" --include $small --exclude 'original/*'
commit=${snapshot##*/}

# A checkpoint that is already quantized (config.json has a quantization_config) is loaded as it is; otherwise vLLM
# quantizes while loading where it can (fp8 dynamic, bitsandbytes 4-bit). It cannot quantize to int8 while loading.
quantized=false
! grep -q '"quant_method"' "$snapshot/config.json" 2> /dev/null || quantized=true
case $dtype/$quantized in
    bf16/*) dtype_args='--dtype bfloat16' ;;
    fp16/*) dtype_args='--dtype float16' ;;
    */true) dtype_args='' ;;
    fp8/false) dtype_args='--quantization fp8' ;;
    int4/false) dtype_args='--quantization bitsandbytes' ;;
    int8/false) die 65 "GPUPOOL_DTYPE=int8 needs a pre-quantized checkpoint, and $repo_id@$revision has no quantization_config in config.json" ;;
esac

# Weights: safetensors, only the shards model.safetensors.index.json names when there is one (repositories may carry a
# second copy, e.g. consolidated.safetensors). Pickle only when allowed and there is no safetensors.
if [ -f "$snapshot/model.safetensors.index.json" ]; then
    shards=$(grep -o '"[^"]*[.]safetensors"' "$snapshot/model.safetensors.index.json" | tr -d '"' | sort -u)
    for shard in $shards; do
        safe_repo_path "$shard" || die 65 "model.safetensors.index.json of $repo_id@$revision names an unsafe path '$(show "$shard")'"
    done
    hf_download $shards --revision "$commit"
else
    hf_download --revision "$commit" --include '*.safetensors' --exclude 'original/*'
fi
if ! have '*.safetensors'; then
    [ "$allow_unsafe" = true ] ||
        die 65 "$repo_id@$revision has no safetensors weights; pickle weights (.bin, .pt) are refused unless GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true, and GGUF files are served with GPUPOOL_ENGINE=llamacpp"
    hf_download --revision "$commit" --include '*.bin' '*.pt' '*.pth' \
        --exclude 'original/*' '*training_args.bin' '*optimizer.pt' '*scheduler.pt' '*rng_state*'
    have '*.bin' || have '*.pt' || have '*.pth' || die 65 "$repo_id@$revision has no weights vLLM can load"
fi
rm -f "$work" && work=''

case $allow_unsafe in true) load_args='' ;; *) load_args='--load-format safetensors' ;; esac
# Extra arguments are counted, not logged: they may hold secrets such as --api-key.
log "starting vllm serve $snapshot --served-model-name $served_name --port $port --tensor-parallel-size $tp --max-model-len $max_len${dtype_args:+ $dtype_args} --gpu-memory-utilization $gpu_util${load_args:+ $load_args} (+ $# extra argument(s))"
# The model is local: vLLM has no reason to reach the hub, and code shipped with a model must not see the token.
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN
export HF_HUB_OFFLINE=1
exec vllm serve "$snapshot" --served-model-name "$served_name" --host 0.0.0.0 --port "$port" \
    --tensor-parallel-size "$tp" --max-model-len "$max_len" $dtype_args --gpu-memory-utilization "$gpu_util" \
    $load_args "$@"
