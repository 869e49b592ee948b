#!/usr/bin/env bash
# The four Adult runs of issue 8 through the `privacity anonymize` binary:
# all nine columns as quasi-identifiers with their ARX hierarchies, k=5 and
# k=100, 4% and 0% suppression, default metric (non-uniform entropy).
# Measures each whole process (wall time, peak resident memory) with GNU
# time, or with anon_rusage_run where GNU time is missing, and, as the
# baseline, a plain pass that only reads the file and groups it once at the
# raw level (anon_group_baseline). Prints a Markdown table; each figure is
# the median wall time and the largest peak over RUNS runs.
#
#   bench/anon/run_adult.sh [BUILD_DIR]      (default: build)
#   RUNS=5 PRIVACITY_SHARED_DATA=/path/to/data bench/anon/run_adult.sh build-release
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
data=${PRIVACITY_SHARED_DATA:-$root/../shared/data}/adult
[ -d "$data" ] && data=$(cd "$data" && pwd)
runs=${RUNS:-3}
privacity=$build/src/cli/privacity
baseline=$build/bench/anon/anon_group_baseline
wrapper=$build/bench/anon/anon_rusage_run

for f in "$privacity" "$baseline"; do
  [ -x "$f" ] || { echo "missing $f: build it first (ninja -C $build privacity anon_group_baseline)" >&2; exit 1; }
done
[ -f "$data/adult.csv" ] || { echo "missing $data/adult.csv" >&2; exit 1; }
if [ ! -x /usr/bin/time ] && [ ! -x "$wrapper" ]; then
  echo "need GNU time (Debian package 'time') or $wrapper" >&2
  exit 1
fi

columns=(sex age race marital-status education native-country workclass occupation salary-class)
qi=()
for c in "${columns[@]}"; do qi+=(--qi "$c=$data/adult_hierarchy_$c.csv"); done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs "$@" once; appends "WALL_SECONDS MAX_RSS_KB" to $tmp/samples.
measure() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >"$tmp/stdout"
  else
    "$wrapper" "$@" >"$tmp/stdout" 2>"$tmp/time"
  fi
  tail -n 1 "$tmp/time" >>"$tmp/samples"
}

# Prints "MEDIAN_WALL PEAK_MB" of the samples, then clears them.
summarise() {
  sort -n "$tmp/samples" | awk '{ w[NR] = $1; if ($2 > m) m = $2 }
    END { printf "%.2f %.1f\n", w[int((NR + 1) / 2)], m / 1024 }'
  : >"$tmp/samples"
}

: >"$tmp/samples"
for _ in $(seq "$runs"); do measure "$baseline" "$data/adult.csv" "${columns[@]}"; done
read -r base_wall base_mb < <(summarise)
base_groups=$(cat "$tmp/stdout")

echo "Adult ($data/adult.csv), ${#columns[@]} quasi-identifiers, median of $runs runs"
echo
echo "| run | wall time (s) | peak memory (MB) | levels | released | classes | suppressed | baseline: read + group (s, MB) |"
echo "|---|---|---|---|---|---|---|---|"
for run in "5 4%" "100 4%" "5 0%" "100 0%"; do
  read -r k suppression <<<"$run"
  for _ in $(seq "$runs"); do
    measure "$privacity" anonymize --input "$data/adult.csv" "${qi[@]}" --k "$k" \
      --suppression "$suppression" --output "$tmp/out.csv" --report "$tmp/report.json"
  done
  read -r wall mb < <(summarise)
  # "anonymized N records: R released in C classes, S suppressed; levels a=1,b=0,..."
  read -r released classes suppressed levels < <(sed -E \
    's/^anonymized [0-9]+ records: ([0-9]+) released in ([0-9]+) classes, ([0-9]+) suppressed; levels (.*)$/\1 \2 \3 \4/' \
    "$tmp/stdout")
  levels=$(tr ',' '\n' <<<"$levels" | sed 's/.*=//' | paste -sd, -)
  echo "| k=$k, $suppression | $wall | $mb | $levels | $released | $classes | $suppressed | $base_wall, $base_mb |"
done
echo
echo "Baseline: $base_groups. Levels are given in the column order ${columns[*]}."
