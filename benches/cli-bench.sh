#!/usr/bin/env bash
# Throughput of the `lethe` command on 100-byte lines from a pipe, against `cat > file`,
# Apache's `rotatelogs` and runit's `svlogd` (where installed: apt-get install
# apache2-utils runit), and, with --compress --checksum, against `gzip -6` on the same data.
#
#   cargo build --release -p lethe-cli && bash benches/cli-bench.sh
#
# Every command reads the same file through a pipe (`cat input | ...`) into a fresh,
# synced directory on the same file system. The configurations alternate within each
# round; the script prints each one's median wall time over the rounds and its MB/s.
# Environment: LINES (default 2000000, i.e. 200 MB), RUNS (5), LETHE, BENCH_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-2000000}
RUNS=${RUNS:-5}
LETHE=${LETHE:-$PWD/target/release/lethe}
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/lethe-cli-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
input=$work/input
# 100-byte lines: a 99-character left-aligned number and a newline.
awk -v n="$LINES" 'BEGIN { for (i = 0; i < n; i++) printf "%-99d\n", i }' >"$input"
bytes=$(stat -c %s "$input")
echo "input: $LINES lines, $bytes bytes; $RUNS rounds; $(nproc) CPUs; $(uname -r)"

declare -A cmds
order=()
add() { order+=("$1"); cmds[$1]=$2; }
add "cat > file" 'cat "$input" | cat >"$out/file"'
add "lethe --max-size 10MB" 'cat "$input" | "$LETHE" --max-size 10MB --max-backups 100 "$out/app.log"'
add "lethe --max-size 10MB --fsync never" 'cat "$input" | "$LETHE" --max-size 10MB --max-backups 100 --fsync never "$out/app.log"'
if command -v rotatelogs >/dev/null; then
    add "rotatelogs (10M)" 'cat "$input" | rotatelogs -n 100 "$out/app.log" 10M'
fi
if command -v svlogd >/dev/null; then
    add "svlogd (s10000000)" 'printf "s10000000\nn100\n" >"$out/config"; cat "$input" | svlogd "$out"'
fi
add "gzip -6" 'cat "$input" | gzip -6 >"$out/file.gz"'
add "lethe --compress --checksum" 'cat "$input" | "$LETHE" --max-size 10MB --max-backups 100 --compress --checksum "$out/app.log"'

declare -A times
for ((r = 1; r <= RUNS; r++)); do
    for name in "${order[@]}"; do
        out=$work/out
        rm -rf "$out"
        mkdir "$out"
        sync
        start=$(date +%s.%N)
        eval "${cmds[$name]}"
        end=$(date +%s.%N)
        times[$name]+="$(echo "$end - $start" | bc) "
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '\n%-40s %10s %10s   %s\n' "command" "median s" "MB/s" "all runs (s)"
for name in "${order[@]}"; do
    m=$(echo "${times[$name]}" | median)
    printf '%-40s %10.3f %10.0f   %s\n' "$name" "$m" "$(echo "$bytes / $m / 1000000" | bc -l)" "${times[$name]}"
done
