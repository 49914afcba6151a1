#!/usr/bin/env bash
# Builds and runs every example as a user would: against the packed packages, not the projects.
#   1. dotnet pack SharpVision.slnx into a temporary folder feed (exactly SharpVision.Tensors, SharpVision, SharpVision.Tool);
#   2. copies each example outside the repository, beside a NuGet.config whose only source for SharpVision* is that feed
#      (everything else: the machine's package cache, then nuget.org) and whose package cache is fresh;
#   3. builds them together and runs each briefly on the shipped sample, from the copy's folder.
# So a type that is not public, or a dependency missing from a package, fails here. tests/SharpVision.Tests
# (PackagedExamplesTests) runs this script and checks what the examples print, so `dotnet test` covers it.
#
#   examples/run.sh [--no-build] [--work DIR]
#     --no-build  pack what `dotnet build -c Release` already built (what the test does)
#     --work DIR  work in DIR (an empty folder outside the repository) and keep it: feed/, packages/, examples/, run/
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pack_args=()
work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) pack_args+=(--no-build) ;;
    --work) work="${2:?--work needs a folder}"; shift ;;
    *) echo "usage: examples/run.sh [--no-build] [--work DIR]" >&2; exit 2 ;;
  esac
  shift
done
examples=(QuickStart ImageFolder Cnn)
if [ -n "$work" ]; then
  mkdir -p "$work" && work="$(cd "$work" && pwd)"
  [ -z "$(ls -A "$work")" ] || { echo "--work $work: the folder must be empty" >&2; exit 2; }
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/sharpvision-examples.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi
case "$work/" in "$root"/*) echo "--work must be outside the repository ($root)" >&2; exit 2 ;; esac
export DOTNET_CLI_USE_MSBUILD_SERVER=0 MSBUILDDISABLENODEREUSE=1
step() { echo "== $1 ($(( SECONDS - started )) s)"; }
started=$SECONDS

step "pack"
dotnet pack "$root/SharpVision.slnx" -c Release -o "$work/feed" --nologo -v quiet -clp:NoSummary "${pack_args[@]}"
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props")"
expected="SharpVision.$version.nupkg SharpVision.Tensors.$version.nupkg SharpVision.Tool.$version.nupkg"
found="$(cd "$work/feed" && ls -1 | sort | tr '\n' ' ' | sed 's/ $//')"
if [ "$found" != "$expected" ]; then
  echo "pack made [$found], expected [$expected] (only the three src/ projects may pack)" >&2
  exit 1
fi

cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cat > "$work/NuGet.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config>
    <add key="globalPackagesFolder" value="$work/packages" />
  </config>
  <packageSources>
    <clear />
    <add key="packed" value="$work/feed" />
    <add key="machine-cache" value="$cache" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="packed">
      <package pattern="SharpVision" />
      <package pattern="SharpVision.*" />
    </packageSource>
    <packageSource key="machine-cache">
      <package pattern="*" />
    </packageSource>
    <packageSource key="nuget.org">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
</configuration>
EOF
[ -d "$cache" ] || sed -i '/key="machine-cache"/d' "$work/NuGet.config"

mkdir -p "$work/examples"
{
  echo '<Solution>'
  for name in "${examples[@]}"; do
    cp -r "$root/examples/$name" "$work/examples/$name"
    rm -rf "$work/examples/$name/bin" "$work/examples/$name/obj"
    if ! grep -q "Include=\"SharpVision\" Version=\"$version\"" "$work/examples/$name/$name.csproj"; then
      echo "examples/$name/$name.csproj must reference SharpVision $version (the version in Directory.Build.props)" >&2
      exit 1
    fi
    echo "  <Project Path=\"$name/$name.csproj\" />"
  done
  echo '</Solution>'
} > "$work/examples/Examples.slnx"

step "restore and build the examples"
dotnet build "$work/examples/Examples.slnx" -c Release --nologo -v quiet -clp:NoSummary -warnaserror

# Each example runs from its own empty folder, on the sample the package copied beside it.
run() {
  local name="$1"; shift
  local bin="$work/examples/$name/bin/Release/net10.0"
  step "run $name $*"
  mkdir -p "$work/run/$name"
  (cd "$work/run/$name" && dotnet "$bin/$name.dll" "$@")
}
sample() { echo "$work/examples/$1/bin/Release/net10.0/sample/fashion-mnist"; }
run QuickStart "$(sample QuickStart)"
run ImageFolder
run Cnn 1 "$(sample Cnn)"

# The .NET tool, installed from the same feed as a user would (a tool path, so nothing global changes), then run.
step "dotnet tool install SharpVision.Tool"
# Its own config: no source but --add-source's feed (package source mapping, as in the examples' config, refuses
# --add-source), and the work folder's fresh package cache, so no older copy of the tool can be picked up.
cat > "$work/tool.NuGet.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config>
    <add key="globalPackagesFolder" value="$work/packages" />
  </config>
  <packageSources>
    <clear />
  </packageSources>
</configuration>
EOF
dotnet tool install SharpVision.Tool --version "$version" --add-source "$work/feed" --tool-path "$work/tool" \
  --configfile "$work/tool.NuGet.config" >/dev/null
(cd "$work/run" && "$work/tool/sharpvision" datasets list)
step "done"
