#!/usr/bin/env bash
# Long fuzzing runs of every reader of outside bytes (see fuzz/README.md).
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET ...]        default: 300 s each, every target
#
# Each target runs under afl-fuzz (AFL++, coverage-guided through SharpFuzz's IL instrumentation of SharpVision.dll
# and SharpVision.Cli.dll), starting from its seed corpus plus the committed corpus in tests/Fixtures/fuzz/TARGET.
# Every input is judged by FuzzEngine.Check (a result or a DataFormatException, within 20 s and the memory bound);
# anything else is reported to AFL as a crash. Afterwards each crash and hang is replayed to print its exception.
# Results: fuzz/work/results.md (target, seconds, executions, paths, crashes, hangs). Copy a crash that you fix into
# tests/Fixtures/fuzz/TARGET/ (and add a named regression test): the test suite replays that folder.
# Needs afl-fuzz (Debian: afl++, installed here when run as root) and the SharpFuzz.CommandLine tool (installed into
# fuzz/work/tools from the NuGet registry). Run it with `nice -n 10` on a shared machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$root/fuzz/work"
seconds="${1:-300}"
shift || true
mkdir -p "$work"

if ! command -v afl-fuzz >/dev/null; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
  else
    echo "afl-fuzz not found: install Debian's afl++" >&2; exit 1
  fi
fi
if [ ! -x "$work/tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$work/tools" >/dev/null
fi

# A fresh build in its own folder (FUZZ_NO_BUILD=1 reuses it), and an instrumented copy for afl-fuzz: sharpfuzz
# rewrites the assemblies in place, and instrumented code only runs under the fuzzer (it writes AFL's shared map), so
# listing, seeding and replaying use the plain build.
if [ "${FUZZ_NO_BUILD:-}" != "1" ]; then
  rm -rf "$work/bin"
  dotnet build "$root/fuzz/SharpVision.Fuzz" -c Release -o "$work/bin" --nologo -v quiet -clp:NoSummary
fi
rm -rf "$work/afl-bin"
cp -r "$work/bin" "$work/afl-bin"
for assembly in SharpVision.dll SharpVision.Cli.dll; do "$work/tools/sharpfuzz" "$work/afl-bin/$assembly" >/dev/null; done
fuzzer=(dotnet "$work/bin/SharpVision.Fuzz.dll")
instrumented=(dotnet "$work/afl-bin/SharpVision.Fuzz.dll")
fixtures="$root/tests/Fixtures"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then mapfile -t targets < <("${fuzzer[@]}" list | awk '!/unavailable/ {print $1}'); fi

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
results="$work/results.md"
{
  echo "# fuzz/run.sh: ${seconds} s per target, $(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo
  echo "| target | seconds | executions | paths | crashes | hangs |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
} > "$results"
for target in "${targets[@]}"; do
  dir="$work/$target"
  rm -rf "$dir"
  "${fuzzer[@]}" seeds "$target" "$dir/in" "$fixtures" >/dev/null
  if [ -d "$fixtures/fuzz/$target" ]; then cp "$fixtures/fuzz/$target"/* "$dir/in/"; fi
  echo "== $target: afl-fuzz for ${seconds} s" >&2
  timeout -s INT $((seconds + 120)) afl-fuzz -V "$seconds" -i "$dir/in" -o "$dir/out" -t 30000 -m none -- "${instrumented[@]}" afl "$target" "$fixtures" \
    > "$dir/afl.log" 2>&1 || true
  stats="$dir/out/default/fuzzer_stats"
  value() { awk -F: -v key="$1" '$1 ~ "^"key" *$" {gsub(/ /, "", $2); print $2}' "$stats" 2>/dev/null || echo "?"; }
  echo "| $target | $(value run_time) | $(value execs_done) | $(value corpus_count) | $(value saved_crashes) | $(value saved_hangs) |" >> "$results"
  for found in "$dir"/out/default/crashes/id:* "$dir"/out/default/hangs/id:*; do
    [ -e "$found" ] || continue
    "${fuzzer[@]}" run "$target" "$found" || true
  done
done
cat "$results"
