#!/usr/bin/env bash
# Builds the dpdk-lb Debian package from this checkout (its tracked and new, not ignored, files)
# in a scratch copy, so that nothing is written next to or inside the source tree, then runs
# lintian on it. Usage: scripts/build-deb.sh [OUTDIR]   (default: ./dist)
# Prints the .deb's path last. Build dependencies: scripts/bootstrap.sh installs them.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-$ROOT/dist}" && cd "${1:-$ROOT/dist}" && pwd)
VERSION=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
WORK=$(mktemp -d /tmp/dlb-deb.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

SRC="$WORK/dpdk-lb-$VERSION"
mkdir -p "$SRC"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$SRC")
(cd "$SRC" && dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$WORK/build.log" 2>&1) || {
  tail -n 40 "$WORK/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed (log above)" >&2
  exit 1
}
deb=$(ls "$WORK"/dpdk-lb_"$VERSION"_*.deb)
# lintian: errors and warnings fail the build; each accepted tag is overridden with its reason
# in debian/dpdk-lb.lintian-overrides.
lintian --fail-on error,warning "$WORK"/dpdk-lb_"$VERSION"_*.changes
cp "$deb" "$OUT/"
echo "$OUT/$(basename "$deb")"
