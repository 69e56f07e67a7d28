#!/bin/sh
# A stand-in for huggingface_hub's `hf download REPO [FILE...] [--revision R] [--include P...] [--exclude P...]
# [--quiet]`, over repositories laid out on disk by FakeHf.java:
#   $FAKE_HF_REPOS/<org>/<name>/sha        the commit its main branch points to
#   $FAKE_HF_REPOS/<org>/<name>/gated      present: refused without HF_TOKEN (as the hub answers 401)
#   $FAKE_HF_REPOS/<org>/<name>/hang       present: waits for SIGTERM instead of downloading
#   $FAKE_HF_REPOS/<org>/<name>/files/...  the repository's files
# Like hf it writes the standard cache layout under $HF_HUB_CACHE (models--org--name/{refs,snapshots/<commit>}),
# fetches only files that are not there yet, ends with the snapshot path on stdout, and says things on stderr before
# it. It appends one line per call to $FAKE_HF_LOG ("token=<set|> <args>") and one line per fetched file to
# $FAKE_HF_LOG.files ("<repo> <file>").
set -uf
log=${FAKE_HF_LOG:?}
printf 'token=%s %s\n' "${HF_TOKEN:+set}" "$*" >> "$log"
[ "${1-}" = download ] || { echo "fake hf: only download is supported" >&2; exit 2; }
repo=$2
shift 2
rev=main files='' includes='' excludes='' mode=files
for a in "$@"; do
    case $a in
        --revision) mode=rev ;;
        --include) mode=include ;;
        --exclude) mode=exclude ;;
        --quiet) mode=none ;;
        --*) echo "fake hf: unknown option $a" >&2; exit 2 ;;
        *)
            case $mode in
                rev) rev=$a; mode=none ;;
                include) includes="$includes $a" ;;
                exclude) excludes="$excludes $a" ;;
                files) files="$files $a" ;;
                *) echo "fake hf: unexpected argument $a" >&2; exit 2 ;;
            esac
            ;;
    esac
done
dir=${FAKE_HF_REPOS:?}/$repo
if [ ! -f "$dir/sha" ]; then
    echo "Traceback (most recent call last):" >&2
    echo "huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error. (Request ID: Root=1-fake)" >&2
    echo "" >&2
    echo "Repository Not Found for url: https://huggingface.co/api/models/$repo/revision/$rev." >&2
    exit 1
fi
if [ -f "$dir/gated" ] && [ -z "${HF_TOKEN-}" ]; then
    echo "huggingface_hub.errors.GatedRepoError: 401 Client Error. (Request ID: Root=1-fake)" >&2
    echo "Cannot access gated repo for url https://huggingface.co/api/models/$repo/revision/$rev." >&2
    echo "Access to model $repo is restricted. You must have access to it and be authenticated to access it." >&2
    exit 1
fi
if [ -f "$dir/hang" ]; then
    trap 'echo TERM > "$log.term"; exit 143' TERM
    echo hanging > "$log.hanging"
    while :; do sleep 1 & wait $!; done
fi
sha=$(cat "$dir/sha")
case $rev in
    main | "$sha") ;;
    *) echo "huggingface_hub.errors.RevisionNotFoundError: 404 Client Error. Revision Not Found for url: $rev" >&2; exit 1 ;;
esac
matches() { # LIST NAME: does NAME match one of the glob patterns in LIST (fnmatch: * also matches /)
    for p in $1; do
        case $2 in $p) return 0 ;; esac
    done
    return 1
}
root=$HF_HUB_CACHE/models--$(printf '%s' "$repo" | sed 's|/|--|g')
snapshot=$root/snapshots/$sha
mkdir -p "$snapshot" "$root/refs"
[ "$rev" = "$sha" ] || printf '%s' "$sha" > "$root/refs/$rev"
count=0
for f in $(cd "$dir/files" && find . -type f | sed 's|^\./||' | sort); do
    if [ -n "$files" ]; then
        matches "$files" "$f" || continue
    else
        [ -z "$includes" ] || matches "$includes" "$f" || continue
        ! matches "$excludes" "$f" || continue
    fi
    count=$((count + 1))
    [ ! -e "$snapshot/$f" ] || continue
    mkdir -p "$(dirname "$snapshot/$f")"
    cp "$dir/files/$f" "$snapshot/$f.incomplete" && mv "$snapshot/$f.incomplete" "$snapshot/$f"
    echo "$repo $f" >> "$log.files"
done
echo "Fetching $count files: done" >&2
echo "$snapshot"
