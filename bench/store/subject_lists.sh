#!/usr/bin/env bash
# The SQLite subject lists (docs/storage.md): what moving the recent list
# into the ordered one costs, in the layout of schema 7 (one list ordered by
# key: the baseline) and of schema 8 (runs, each ordered by key), on lists
# of ENTRIES entries over KEYS data keys, in the same run. Prints, per
# layout, the median over REPS moves of MOVE entries of the wall time and of
# the pages (16 KB WAL frames) the move wrote, their ratios, and the time of
# one lookup of two keys.
#
#   bench/store/subject_lists.sh        # ENTRIES=10000000 KEYS=100000 MOVE=65536 REPS=3
# Needs the sqlite3 command (Debian package sqlite3); not run by CI.
set -euo pipefail
ENTRIES="${ENTRIES:-10000000}"
KEYS="${KEYS:-100000}"
MOVE="${MOVE:-65536}"
REPS="${REPS:-3}"
command -v sqlite3 >/dev/null || { echo "needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }
WORK="$(mktemp -d /tmp/privacity-subject-lists-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

PRAGMAS="PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
PRAGMA cache_size=-65536;"
# The same entries in both layouts: entry i is record i under key i % KEYS,
# and schema 8 holds them in runs of MOVE.
sqlite3 "$WORK/by_key.db" >/dev/null <<EOF
$PRAGMAS
CREATE TABLE l (key_id INTEGER NOT NULL, record_id INTEGER NOT NULL,
  PRIMARY KEY (key_id, record_id)) WITHOUT ROWID;
CREATE TABLE recent (key_id INTEGER NOT NULL, record_id INTEGER NOT NULL);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $ENTRIES - 1)
INSERT INTO l SELECT i % $KEYS, i FROM c ORDER BY i % $KEYS, i;
EOF
sqlite3 "$WORK/runs.db" >/dev/null <<EOF
$PRAGMAS
CREATE TABLE l (run INTEGER NOT NULL, key_id INTEGER NOT NULL, record_id INTEGER NOT NULL,
  PRIMARY KEY (run, key_id, record_id)) WITHOUT ROWID;
CREATE TABLE recent (key_id INTEGER NOT NULL, record_id INTEGER NOT NULL);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $ENTRIES - 1)
INSERT INTO l SELECT i / $MOVE + 1, i % $KEYS, i FROM c ORDER BY i / $MOVE + 1, i % $KEYS, i;
EOF

# One move of MOVE new entries (the next record ids, every key in turn);
# prints "seconds frames".
move() {
  local db="$1" insert="$2" first="$3"
  sqlite3 "$db" <<EOF | awk '/^Run Time/ {t = $4} /^0\|/ {split($0, f, "|"); n = f[2]} END {print t, n}'
PRAGMA cache_size=-65536; PRAGMA synchronous=NORMAL;
DELETE FROM recent;
WITH RECURSIVE c(i) AS (SELECT $first UNION ALL SELECT i + 1 FROM c WHERE i < $first + $MOVE - 1)
INSERT INTO recent SELECT i % $KEYS, i FROM c;
PRAGMA wal_checkpoint(TRUNCATE);
.timer on
$insert
.timer off
PRAGMA wal_checkpoint;
EOF
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

: >"$WORK/by_key.txt"
: >"$WORK/runs.txt"
for rep in $(seq 1 "$REPS"); do
  first=$((ENTRIES + (rep - 1) * MOVE))
  move "$WORK/by_key.db" \
    "INSERT INTO l SELECT key_id, record_id FROM recent ORDER BY key_id, record_id;" \
    "$first" >>"$WORK/by_key.txt"
  run=$((ENTRIES / MOVE + 1 + rep))
  move "$WORK/runs.db" \
    "INSERT INTO l SELECT $run, key_id, record_id FROM recent ORDER BY key_id, record_id;" \
    "$first" >>"$WORK/runs.txt"
done
lookup() {
  sqlite3 "$1" <<EOF | awk '/^Run Time/ {print $4}'
.timer on
$2
EOF
}
by_key_s=$(awk '{print $1}' "$WORK/by_key.txt" | median)
by_key_pages=$(awk '{print $2}' "$WORK/by_key.txt" | median)
runs_s=$(awk '{print $1}' "$WORK/runs.txt" | median)
runs_pages=$(awk '{print $2}' "$WORK/runs.txt" | median)
by_key_lookup=$(lookup "$WORK/by_key.db" \
  "SELECT count(*) FROM l WHERE key_id IN (123, 4567);")
runs_lookup=$(lookup "$WORK/runs.db" \
  "WITH RECURSIVE runs(run) AS (SELECT min(run) FROM l UNION ALL SELECT (SELECT min(s.run)
   FROM l s WHERE s.run > runs.run) FROM runs WHERE runs.run IS NOT NULL)
   SELECT count(*) FROM runs JOIN l s ON s.run = runs.run WHERE s.key_id IN (123, 4567);")

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$ENTRIES entries over $KEYS keys, moves of $MOVE entries, medians of $REPS"
echo "| layout | move (s) | pages written | lookup of 2 keys (s) |"
echo "|---|---|---|---|"
echo "| one list by key (schema 7, baseline) | $by_key_s | $by_key_pages | $by_key_lookup |"
echo "| runs (schema 8) | $runs_s | $runs_pages | $runs_lookup |"
awk -v a="$runs_s" -v b="$by_key_s" -v p="$runs_pages" -v q="$by_key_pages" \
  'BEGIN {printf "runs / by key: time %.2f, pages %.3f\n", a / b, p / q}'
