#!/usr/bin/env bash
# Checks what the packages promise, so it cannot silently regress:
#  1. every library evaluates with IsAotCompatible, IsTrimmable and GenerateDocumentationFile true (and so with the
#     AOT, trimming and single-file analyzers on), and Spiking.Cli packs as the `spiking` .NET tool;
#  2. `dotnet pack Spiking.sln` gives exactly the four library packages and the tool, each with its XML docs, its
#     README.md, the MIT license expression and git repository metadata;
#  3. the tool installs from the fresh package and `spiking info` runs.
# Usage: scripts/check-packaging.sh [--no-build]   (--no-build packs what `dotnet build -c Release` left, as .ci/run does)
# Needs the .NET SDK and unzip (or python3) to list the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

build=()
case "${1-}" in
  --no-build) build=(--no-build) ;;
  "") ;;
  *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
esac

libraries=(Spiking.Tensors Spiking.Autograd Spiking.Layers Spiking.Gpu)
failures=0
fail() { echo "check-packaging: $*" >&2; failures=$((failures + 1)); }

# The value of each property in `dotnet msbuild -getProperty` JSON output ("Name": "value").
property() { sed -n "s/^ *\"$2\": \"\(.*\)\",\{0,1\}$/\1/p" <<<"$1"; }

for lib in "${libraries[@]}"; do
  props=(IsAotCompatible IsTrimmable GenerateDocumentationFile EnableAotAnalyzer EnableTrimAnalyzer EnableSingleFileAnalyzer IsPackable)
  args=()
  for p in "${props[@]}"; do args+=("-getProperty:$p"); done
  json=$(dotnet msbuild "$lib/$lib.csproj" -p:Configuration=Release "${args[@]}")
  for p in "${props[@]}"; do
    value=$(property "$json" "$p")
    [ "$value" = true ] || fail "$lib: $p is '${value}', expected true"
  done
done

json=$(dotnet msbuild Spiking.Cli/Spiking.Cli.csproj -p:Configuration=Release -getProperty:PackAsTool -getProperty:ToolCommandName -getProperty:PackageId)
[ "$(property "$json" PackAsTool)" = true ] || fail "Spiking.Cli: PackAsTool is not true"
[ "$(property "$json" ToolCommandName)" = spiking ] || fail "Spiking.Cli: ToolCommandName is '$(property "$json" ToolCommandName)', expected spiking"
[ "$(property "$json" PackageId)" = Spiking.Cli ] || fail "Spiking.Cli: PackageId is '$(property "$json" PackageId)', expected Spiking.Cli"

if command -v unzip >/dev/null; then
  list() { unzip -Z1 "$1"; }
  show() { unzip -p "$1" "$2"; }
elif command -v python3 >/dev/null; then
  list() { python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"; }
  show() { python3 -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode("utf-8-sig"))' "$1" "$2"; }
else
  echo "check-packaging: neither unzip nor python3 is installed; cannot list the packages" >&2
  exit 1
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dotnet pack Spiking.sln -c Release "${build[@]}" -o "$out/pk" >"$out/pack.log" 2>&1 || { cat "$out/pack.log" >&2; echo "check-packaging: dotnet pack failed" >&2; exit 1; }

version=$(dotnet msbuild Spiking.Tensors/Spiking.Tensors.csproj -getProperty:Version)
expected=("${libraries[@]}" Spiking.Cli)
found=$(cd "$out/pk" && ls -1 -- *.nupkg | sort | tr '\n' ' ')
want=$(for id in "${expected[@]}"; do echo "$id.$version.nupkg"; done | sort | tr '\n' ' ')
[ "$found" = "$want" ] || fail "dotnet pack produced [$found], expected [$want]"

for id in "${expected[@]}"; do
  pkg="$out/pk/$id.$version.nupkg"
  [ -f "$pkg" ] || continue
  files=$(list "$pkg")
  nuspec=$(show "$pkg" "$id.nuspec")
  if [ "$id" = Spiking.Cli ]; then
    for f in tools/net10.0/any/spiking.dll tools/net10.0/any/DotnetToolSettings.xml; do
      grep -qxF "$f" <<<"$files" || fail "$id: $f missing from the package"
    done
    grep -q '<packageType name="DotnetTool"' <<<"$nuspec" || fail "$id: not a DotnetTool package"
  else
    for f in "lib/net10.0/$id.dll" "lib/net10.0/$id.xml"; do
      grep -qxF "$f" <<<"$files" || fail "$id: $f missing from the package"
    done
    # The XML docs must document the assembly's members, not be an empty shell.
    [ "$(show "$pkg" "lib/net10.0/$id.xml" | grep -c '<member name=')" -gt 0 ] || fail "$id: lib/net10.0/$id.xml documents no member"
  fi
  grep -qxF README.md <<<"$files" || fail "$id: README.md missing from the package"
  grep -qF '<readme>README.md</readme>' <<<"$nuspec" || fail "$id: the nuspec names no readme"
  grep -qF '<license type="expression">MIT</license>' <<<"$nuspec" || fail "$id: the nuspec has no MIT license expression"
  grep -qF '<repository type="git"' <<<"$nuspec" || fail "$id: the nuspec has no git repository metadata"
  for tag in authors description tags; do
    grep -qE "<$tag>[^<]+</$tag>" <<<"$nuspec" || fail "$id: the nuspec has no <$tag>"
  done
done

# The tool from the fresh package (its own package folder, so no cached copy of this version stands in for it).
if [ -f "$out/pk/Spiking.Cli.$version.nupkg" ]; then
  if NUGET_PACKAGES="$out/nuget" dotnet tool install --tool-path "$out/tool" --add-source "$out/pk" --ignore-failed-sources \
      --version "$version" Spiking.Cli >"$out/install.log" 2>&1; then
    "$out/tool/spiking" info >"$out/info.txt" 2>&1 || { cat "$out/info.txt" >&2; fail "the installed tool's 'spiking info' failed"; }
    grep -q '^simd ' "$out/info.txt" || fail "the installed tool's 'spiking info' printed no simd line"
  else
    cat "$out/install.log" >&2
    fail "dotnet tool install of Spiking.Cli $version from the fresh package failed"
  fi
fi

if [ "$failures" -ne 0 ]; then
  echo "check-packaging: $failures problem(s)" >&2
  exit 1
fi
echo "check-packaging: ${#libraries[@]} libraries AOT/trim-analysed with XML docs; $(wc -w <<<"$found") packages with docs, readme, MIT license and repository metadata; the spiking tool installs and runs"
