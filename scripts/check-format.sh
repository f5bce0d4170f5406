#!/usr/bin/env bash
# Checks that every C source and header of the tree is formatted as
# .clang-format says, with clang-format 14 (Debian 12's `clang-format`
# package; other versions format differently, so they are refused).
#
#   scripts/check-format.sh          check: lists the files that differ (and
#                                    the first lines of the difference);
#                                    exit status 1 when any does
#   scripts/check-format.sh --fix    reformats those files in place
#   scripts/check-format.sh [--fix] FILE...   only these files
#
# The files are the tracked *.c and *.h (git ls-files; the directories below
# when the tree is not a git checkout). Exit status: 0 formatted (or fixed),
# 1 files differ, 2 clang-format 14 missing or a bad argument.
# Environment: CLANG_FORMAT (default clang-format), SKIFF_JOBS (default 2).
set -euo pipefail

cd "$(dirname "$0")/.."
CF=${CLANG_FORMAT:-clang-format}
JOBS=${SKIFF_JOBS:-2}

fix=0
if [[ ${1:-} == --fix ]]; then
    fix=1
    shift
fi
if [[ ${1:-} == -* ]]; then
    echo "usage: scripts/check-format.sh [--fix] [FILE...]" >&2
    exit 2
fi

version=$("$CF" --version 2>/dev/null || true)
if [[ ! $version =~ version\ 14\. ]]; then
    echo "check-format: needs clang-format 14 (apt-get install clang-format on Debian 12); found: ${version:-none}" >&2
    exit 2
fi

files=()
if [[ $# -gt 0 ]]; then
    files=("$@")
elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files '*.c' '*.h')
else
    mapfile -t files < <(find src include tests bench tools integration -name '*.[ch]' | sort)
fi

if [[ $fix -eq 1 ]]; then
    printf '%s\0' "${files[@]}" | xargs -0 -n 16 -P "$JOBS" "$CF" -i --style=file
    echo "check-format: formatted ${#files[@]} files"
    exit 0
fi

# The files that differ, one name a line (clang-format exits non-zero for them).
bad=$(printf '%s\0' "${files[@]}" |
    xargs -0 -n 1 -P "$JOBS" sh -c '"$0" --dry-run --Werror --style=file "$1" >/dev/null 2>&1 || echo "$1"' "$CF" |
    sort)
if [[ -z $bad ]]; then
    echo "check-format: ${#files[@]} files formatted"
    exit 0
fi
n=$(wc -l <<<"$bad")
echo "check-format: $n of ${#files[@]} files differ from .clang-format (scripts/check-format.sh --fix):"
while IFS= read -r f; do
    echo "  $f"
    "$CF" --style=file "$f" | diff -u "$f" - | sed -n '3,12p' | sed 's/^/      /' || true
done <<<"$(head -n 20 <<<"$bad")"
[[ $n -gt 20 ]] && echo "  ... and $((n - 20)) more"
exit 1
