#!/usr/bin/env bash
# Builds the container image from the Dockerfile with buildah, on a machine
# with no Docker engine and no registry:
#   1. the Dockerfile's base, debian:bookworm-slim, is made from Debian's own
#      packages (debootstrap --variant=minbase) and cached as
#      build/image/base.tar.gz; it is imported FROM scratch under that name;
#   2. buildah bud --pull-never builds the Dockerfile (docker format, so the
#      HEALTHCHECK is kept) as localhost/skiff:test.
# buildah keeps its images in build/image/storage (vfs driver, chroot
# isolation: no daemon, no user namespaces). Prints the image's uncompressed
# size in bytes as its last line. Needs root, buildah and debootstrap
# (scripts/install-deps.sh). Usage: scripts/build-image.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:-localhost/skiff:test}
dir=build/image
base=$dir/base.tar.gz
mirror=${SKIFF_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$dir"
buildah=(buildah --root "$PWD/$dir/storage" --runroot "$PWD/$dir/run" --storage-driver vfs)

if [[ ! -s $base ]]; then
    echo "build-image: debootstrap bookworm (minbase) from $mirror" >&2
    rm -rf "$dir/rootfs"
    debootstrap --variant=minbase bookworm "$dir/rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
        { tail -20 "$dir/debootstrap.log" >&2; exit 1; }
    tar -C "$dir/rootfs" -czf "$base.tmp" . && mv "$base.tmp" "$base"
    rm -rf "$dir/rootfs"
fi

if ! "${buildah[@]}" inspect --type image docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
    echo "build-image: importing the base as debian:bookworm-slim" >&2
    ctx=$dir/base-context
    rm -rf "$ctx" && mkdir -p "$ctx"
    ln "$base" "$ctx/base.tar.gz" 2>/dev/null || cp "$base" "$ctx/base.tar.gz"
    printf 'FROM scratch\nADD base.tar.gz /\nCMD ["bash"]\n' >"$ctx/Containerfile"
    "${buildah[@]}" bud --quiet --isolation chroot --pull-never \
        -t docker.io/library/debian:bookworm-slim "$ctx" >/dev/null
    rm -rf "$ctx"
fi

echo "build-image: buildah bud -> $tag" >&2
"${buildah[@]}" bud --isolation chroot --pull-never --format docker --layers=false \
    -t "$tag" -f Dockerfile . >"$dir/bud.log" 2>&1 || { tail -40 "$dir/bud.log" >&2; exit 1; }
# The build stage's image is not needed again; only the tag is kept.
"${buildah[@]}" rmi --prune >/dev/null 2>&1 || true

ctr=$("${buildah[@]}" from --pull-never "$tag")
mnt=$("${buildah[@]}" mount "$ctr")
size=$(du -sb --apparent-size "$mnt" | cut -f1)
"${buildah[@]}" umount "$ctr" >/dev/null
"${buildah[@]}" rm "$ctr" >/dev/null
echo "$size"
