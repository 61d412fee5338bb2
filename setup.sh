#!/usr/bin/env bash
# One-command, idempotent setup for Riverbed on a fresh Linux x64 machine. It needs the .NET 10 SDK and nothing else
# from the machine (no node, no npm):
#   1. builds the solution: NuGet brings ONNX Runtime (Microsoft.ML.OnnxRuntime 1.32.0, or
#      Microsoft.ML.OnnxRuntime.Gpu.Linux 1.32.0 with --with-cuda) and DuckDB (DuckDB.NET.Bindings.Full, whose
#      libduckdb.so is copied beside the app);
#   2. generates the demo models under models/demo/ from the bert-base-uncased vocabulary bundled in Riverbed.Core
#      (see models/README.md).
# Rerunning it is safe: the build is incremental and up-to-date demo models are left alone.
#
# Options:
#   --with-cuda     build with ONNX Runtime's GPU package (CUDA 13 + cuDNN 9; a ~300 MB NuGet download) instead of the CPU one
#   --no-build      check the machine only; build nothing
#   --quiet         less output
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
with_cuda=0
build=1
quiet=0
for arg in "$@"; do
  case "$arg" in
    --with-cuda) with_cuda=1 ;;
    --no-build) build=0 ;;
    --quiet) quiet=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

say() { [ "$quiet" = 1 ] || echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not installed. $2"
}

[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] || die "Riverbed supports Linux x86_64 only (this is $(uname -s) $(uname -m))."

need dotnet "Install the .NET 10 SDK (https://dot.net)."
sdk_major="$(dotnet --version 2>/dev/null | cut -d. -f1)"
[ "${sdk_major:-0}" -ge 10 ] || die ".NET SDK 10 or newer is required (found $(dotnet --version 2>/dev/null || echo none))"

[ "$build" = 1 ] || exit 0

# ONNX Runtime is a NuGet package: exactly one native flavour, chosen here (the build fails if both end up referenced).
ort_flavour=cpu
[ "$with_cuda" = 1 ] && ort_flavour=gpu
say "building (Release, ONNX Runtime: $ort_flavour package; NuGet restores DuckDB and the other packages)"
dotnet build "$root/Riverbed.sln" -c Release -nologo -v quiet -clp:ErrorsOnly -p:RiverbedOnnxRuntime="$ort_flavour"

# The demo models are generated, not downloaded (no pretrained weights are reachable here); the command skips the work
# when models/demo is complete and stamped by the same generator version.
say "demo models (models/demo)"
if [ "$quiet" = 1 ]; then
  "$root/riverbed" models generate demo --output "$root/models/demo" >/dev/null
else
  "$root/riverbed" models generate demo --output "$root/models/demo"
fi
