#!/usr/bin/env bash
# Installs Mesa 25's lavapipe (a CPU Vulkan driver) privately so Dawn (npm `webgpu`) finds an adapter on a
# machine without a GPU. Debian 12's own lavapipe (Mesa 22.3) is rejected by Dawn; bookworm-backports'
# works (see ../shared/notes/webgpu-on-cpu.md). Nothing system-wide changes: apt resolves, against this
# machine's installed packages, what mesa-vulkan-drivers (backports) and the Vulkan loader still need,
# downloads those .debs into a private cache, and `dpkg-deb -x` unpacks them into $LAVAPIPE_DIR.
# The result: $LAVAPIPE_DIR/lvp_icd.json (absolute library_path) and $LAVAPIPE_DIR/lib (for LD_LIBRARY_PATH);
# kernels-gpu/driver-env.ts turns them into the environment Dawn needs.
#
# Usage: tools/install-lavapipe.sh            (idempotent; a second run is a no-op)
# Env:   LAVAPIPE_DIR   where to unpack (default: <repo>/node_modules/.cache/lavapipe)
#        DEBIAN_MIRROR  (default: http://deb.debian.org/debian)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${LAVAPIPE_DIR:-$root/node_modules/.cache/lavapipe}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
arch_triplet="x86_64-linux-gnu"

if [[ -f "$dest/lvp_icd.json" ]]; then
  echo "lavapipe: already installed in $dest"
  exit 0
fi
if [[ "$(uname -m)" != x86_64 ]] || ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
  echo "lavapipe: needs Debian 12 on x86_64 with apt-get and dpkg-deb" >&2
  exit 1
fi
start=$(date +%s)
work="$dest.tmp"
rm -rf "$work"
mkdir -p "$work"/apt/{lists/partial,archives/partial,cache} "$work/root"
cat >"$work/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $mirror bookworm-backports main
EOF
apt_opts=(
  -o "Dir::Etc::SourceList=$work/apt/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
  -o "Dir::Cache::Archives=$work/apt/archives" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=$(id -un)"
)
apt-get "${apt_opts[@]}" -qq update
# Resolves against the installed packages: only what is missing or too old is downloaded (nothing installed).
apt-get "${apt_opts[@]}" -qq -y --download-only --no-install-recommends -t bookworm-backports \
  install mesa-vulkan-drivers libvulkan1 >/dev/null
shopt -s nullglob
debs=("$work"/apt/archives/*.deb)
if [[ ${#debs[@]} -eq 0 ]]; then
  # Everything is installed system-wide already: fetch the driver itself so the private copy is complete.
  (cd "$work/apt/archives" && apt-get "${apt_opts[@]}" -qq download -t bookworm-backports mesa-vulkan-drivers)
  debs=("$work"/apt/archives/*.deb)
fi
for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$work/root"; done

lvp="$work/root/usr/lib/$arch_triplet/libvulkan_lvp.so"
[[ -f "$lvp" ]] || { echo "lavapipe: $lvp missing after unpack" >&2; exit 1; }
mkdir -p "$dest"
rm -rf "$dest/root"
mv "$work/root" "$dest/root"
ln -sfn "root/usr/lib/$arch_triplet" "$dest/lib"
api=$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$dest"/root/usr/share/vulkan/icd.d/lvp_icd*.json | head -n1)
cat >"$dest/lvp_icd.json" <<EOF
{
  "file_format_version": "1.0.1",
  "ICD": { "library_path": "$dest/root/usr/lib/$arch_triplet/libvulkan_lvp.so", "api_version": "${api:-1.4.305}" }
}
EOF
rm -rf "$work"
printf 'lavapipe: %s .debs unpacked into %s in %ss\n' "${#debs[@]}" "$dest" "$(( $(date +%s) - start ))"
