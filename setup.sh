#!/usr/bin/env bash
# One-command, idempotent setup for Riverbed on a fresh Linux x64 machine. It needs the .NET 10 SDK and nothing else
# from the machine (no node, no npm):
#   1. ONNX Runtime (see the separated section below);
#   2. builds the solution: NuGet brings DuckDB (DuckDB.NET.Bindings.Full, libduckdb.so copied beside the app);
#   3. generates the demo models under models/demo/ from the bert-base-uncased vocabulary bundled in Riverbed.Core
#      (see models/README.md).
# Rerunning it is safe: verified files are kept, the build is incremental, up-to-date demo models are left alone.
#
# Options:
#   --with-cuda     also install the CUDA 13 execution provider
#   --no-build      only install native libraries
#   --quiet         less output
# Environment:
#   RIVERBED_CACHE      where downloaded ONNX Runtime archives are kept (default: ~/.cache/riverbed/npm)
#   RIVERBED_ORT_LIB    a libonnxruntime.so of your own (then the ONNX Runtime download is skipped)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
native="$root/.native"
cache="${RIVERBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/riverbed/npm}"
with_cuda=0
build=1
quiet=0
for arg in "$@"; do
  case "$arg" in
    --with-cuda) with_cuda=1 ;;
    --no-build) build=0 ;;
    --quiet) quiet=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

say() { [ "$quiet" = 1 ] || echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not installed. $2"
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] || die "Riverbed supports Linux x86_64 only (this is $(uname -s) $(uname -m))."

# ======================= ONNX Runtime =======================================================================
# Issue 13 moves ONNX Runtime to its official NuGet packages (the CPU one by default, the GPU one for --with-cuda,
# chosen by a build property above the build); this whole section then goes away. Until then it fetches the
# pinned libraries from npm with `npm pack`, verifies their sha256 and installs them under .native/ (gitignored).
# With RIVERBED_ORT_LIB set (and no --with-cuda) it needs no npm.

# Pinned artefacts: package, path inside the tarball, destination, sha256 (facts measured on the published packages).
ORT_PKG="com.github.asus4.onnxruntime@0.4.9"
ORT_TGZ="com.github.asus4.onnxruntime-0.4.9.tgz"
ORT_GPU_PKG="com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9"
ORT_GPU_TGZ="com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz"
ORT_HEADERS="package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers"

ORT_FILES=(
  "package/Plugins/Linux/x64/libonnxruntime.so|onnxruntime/libonnxruntime.so|5715f06d8992ca8eeeddcce43df3a7d38f97d537052126f558e912cb312460ca"
  "package/Plugins/Linux/x64/libonnxruntime_providers_shared.so|onnxruntime/libonnxruntime_providers_shared.so|086ec1d5388f64153d9c63470d126693db9a182c8ce236d3a1119068471b8a0d"
  "$ORT_HEADERS/onnxruntime_c_api.h|onnxruntime/include/onnxruntime_c_api.h|acc0cf4b3f28d39339c76770d76164bb7a0637dc89f5fde764b4017b632f6743"
  "$ORT_HEADERS/onnxruntime_ep_c_api.h|onnxruntime/include/onnxruntime_ep_c_api.h|e6c986c9e98583f8113b2c6bc3864814883b806d501cf24da4d239c45753e235"
)
ORT_GPU_FILES=(
  "package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so|onnxruntime-cuda/libonnxruntime_providers_cuda.so|56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037"
  "package/Plugins/Linux/x64/libonnxruntime_providers_shared.so|onnxruntime-cuda/libonnxruntime_providers_shared.so|c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772"
)
all_present() {
  local entry src dst sha
  for entry in "$@"; do
    IFS='|' read -r src dst sha <<<"$entry"
    [ -f "$native/$dst" ] && [ "$(sha_of "$native/$dst")" = "$sha" ] || return 1
  done
}

# install_package PACKAGE TARBALL ENTRY...: npm pack into the cache (once), then extract and verify each entry.
install_package() {
  local pkg="$1" tgz="$2"; shift 2
  if all_present "$@"; then
    say "$pkg: already installed and verified"
    return
  fi
  need npm "Install Node.js/npm (Debian: apt-get install -y npm) or set RIVERBED_ORT_LIB."
  mkdir -p "$cache"
  if [ ! -s "$cache/$tgz" ]; then
    say "$pkg: downloading with npm pack"
    local tmp
    tmp="$(mktemp -d "$cache/.pack.XXXXXX")"
    (cd "$tmp" && npm pack --silent "$pkg" >/dev/null) || { rm -rf "$tmp"; die "npm pack $pkg failed (is the npm registry reachable?)"; }
    [ -s "$tmp/$tgz" ] || { rm -rf "$tmp"; die "npm pack $pkg did not produce $tgz"; }
    mv "$tmp/$tgz" "$cache/$tgz"
    rm -rf "$tmp"
  fi
  local work entry src dst sha got
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  local members=()
  for entry in "$@"; do IFS='|' read -r src dst sha <<<"$entry"; members+=("$src"); done
  if ! tar -xzf "$cache/$tgz" -C "$work" "${members[@]}" 2>/dev/null; then
    rm -f "$cache/$tgz"
    die "$cache/$tgz is damaged or incomplete; removed it, run setup again"
  fi
  for entry in "$@"; do
    IFS='|' read -r src dst sha <<<"$entry"
    got="$(sha_of "$work/$src")"
    if [ "$got" != "$sha" ]; then
      rm -f "$cache/$tgz"
      die "$pkg: $src has sha256 $got, expected $sha; the cached tarball was removed, run setup again"
    fi
    mkdir -p "$(dirname "$native/$dst")"
    # Atomic replace: a concurrent run never sees a half-copied library.
    cp "$work/$src" "$native/$dst.tmp.$$"
    mv -f "$native/$dst.tmp.$$" "$native/$dst"
  done
  say "$pkg: installed and verified"
}

if [ -n "${RIVERBED_ORT_LIB:-}" ]; then
  [ -f "$RIVERBED_ORT_LIB" ] || die "RIVERBED_ORT_LIB=$RIVERBED_ORT_LIB does not exist"
  say "ONNX Runtime: using RIVERBED_ORT_LIB=$RIVERBED_ORT_LIB"
else
  install_package "$ORT_PKG" "$ORT_TGZ" "${ORT_FILES[@]}"
fi
if [ "$with_cuda" = 1 ]; then
  install_package "$ORT_GPU_PKG" "$ORT_GPU_TGZ" "${ORT_GPU_FILES[@]}"
fi
# ======================= end of the ONNX Runtime section ====================================================

[ "$build" = 1 ] || exit 0

need dotnet "Install the .NET 10 SDK (https://dot.net)."
sdk_major="$(dotnet --version 2>/dev/null | cut -d. -f1)"
[ "${sdk_major:-0}" -ge 10 ] || die ".NET SDK 10 or newer is required (found $(dotnet --version 2>/dev/null || echo none))"

# Extra MSBuild properties for the build (the ONNX Runtime package choice for --with-cuda goes here).
build_args=()

say "building (Release; NuGet restores DuckDB and the other packages)"
dotnet build "$root/Riverbed.sln" -c Release -nologo -v quiet -clp:ErrorsOnly "${build_args[@]}"

# The demo models are generated, not downloaded (no pretrained weights are reachable here); the command skips the work
# when models/demo is complete and stamped by the same generator version.
say "demo models (models/demo)"
if [ "$quiet" = 1 ]; then
  "$root/riverbed" models generate demo --output "$root/models/demo" >/dev/null
else
  "$root/riverbed" models generate demo --output "$root/models/demo"
fi
