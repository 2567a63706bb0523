#!/usr/bin/env bash
# Interleaved side-by-side runs: PostGraphile peer (kit's load.py) and PAHT (bench/load_paht.py),
# one (op, concurrency) cell at a time, alternating servers, ROUNDS times. Writes go last.
# Both servers must be up already (see bench/README.md).
#   ROUNDS=2 DURATION=15 WARMUP=5 bash bench/run_side_by_side.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PY:-$HERE/../.venv/bin/python}
PEER_KIT=${PEER_KIT:-/work/shared/bench/peer}
export PEER_DIR=${PEER_DIR:-/tmp/paht-peer}
export BENCH_MAX_WAIT=${BENCH_MAX_WAIT:-60}   # both guards: wait at most this long for a quiet box
PEER_DB=${PEER_DB:-peer_1m}
PAHT_DB=${PAHT_DB:-paht_bench}   # the database the PAHT server under test reads
PAHT_URL=${PAHT_URL:-http://127.0.0.1:8000/graphql}
ROUNDS=${ROUNDS:-2}; DURATION=${DURATION:-15}; WARMUP=${WARMUP:-5}
OPS=${OPS:-a_list b_detail c_dashboard d_create}
LABEL=${LABEL:-}   # e.g. "1m-": results_table.py --label-prefix 1m-round
CONCS=${CONCS:-1 32}
: "${PAHT_JWT_SECRET:?set PAHT_JWT_SECRET to the PAHT server secret}"
mkdir -p "$HERE/results"
for round in $(seq 1 "$ROUNDS"); do
  for op in $OPS; do
    for c in $CONCS; do
      echo "== round $round op $op c=$c: peer"
      (cd "$PEER_KIT" && "$PY" load.py --db "$PEER_DB" --op "$op" -c "$c" -d "$DURATION" --warmup "$WARMUP" \
         --pgss --label "${LABEL}round$round" --out "$HERE/results/peer.jsonl") | tail -n +3
      echo "== round $round op $op c=$c: paht"
      "$PY" "$HERE/load_paht.py" --url "$PAHT_URL" --database "$PAHT_DB" --op "$op" -c "$c" -d "$DURATION" --warmup "$WARMUP" \
         --pgss --label "${LABEL}round$round" --out "$HERE/results/paht.jsonl" | tail -n +3
    done
  done
done
