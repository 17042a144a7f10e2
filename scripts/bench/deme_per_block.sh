#!/usr/bin/env bash
# The method-fidelity study of docs/deme.md ("Per-block weights: closing the gap to the
# ensemble"): runs the main job's `tvtool deme` (defaults, Fréchet distances included) with
# --merge-granularity block and routed in ONE folder (finetunes and the per-model search are
# reused by the second run), then prints
#   1. the SEARCH-set decision (held-out set 1): each candidate − per-model merge, paired over
#      images, and the pre-declared rule's verdict (adopt iff better by more than 2 SE; the lower
#      of the qualifying candidates wins);
#   2. only then the REPORT-set numbers (held-out set 2): candidate vs per-model merge and vs the
#      ensemble, paired SE and z, and the per-model merge vs the ensemble.
# Usage: scripts/bench/deme_per_block.sh [OUTDIR]   (env: TVTOOL=BINARY uses a prebuilt tvtool;
#   EXTRA="--steps-per-range 100" passes more options to every run, e.g. for a quick try)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-${TMPDIR:-/tmp}/deme-per-block-$$}
if [ -z "${TVTOOL:-}" ]; then
  swift build -c release --product tvtool >&2
  TVTOOL=.build/release/tvtool
fi
lscpu | grep -E "Model name|Flags" | sed 's/Flags:.*avx512f.*/AVX-512: yes/; s/Flags:.*/AVX-512: no/' >&2
for g in block routed; do
  if [ ! -f "$OUT/$g/report.json" ]; then
    start=$(date +%s)
    echo "== $g (load: $(uptime | sed 's/.*load average: //'))" >&2
    # shellcheck disable=SC2086
    nice -n 5 "$TVTOOL" deme --data digits --merge-granularity "$g" ${EXTRA:-} -o "$OUT/run" >&2
    mkdir -p "$OUT/$g"
    cp "$OUT"/run/report.json "$OUT"/run/report.md "$OUT/run/search_deme_$g.csv" "$OUT/$g/"
    echo "$(( $(date +%s) - start ))" > "$OUT/$g/seconds"
  fi
done
python3 - "$OUT" <<'PY'
import json, math, os, re, sys
root = sys.argv[1]
def report(g): return json.load(open(os.path.join(root, g, "report.json")))
def paired(a, b):
    d = [x - y for x, y in zip(a, b)]; n = len(d); m = sum(d) / n
    se = math.sqrt(sum((x - m) ** 2 for x in d) / (n - 1) / n)
    return m, se, m / se
print("1. SEARCH set (held-out 1): candidate − per-model merge (the decision)")
qualifying = []
for g in ["block", "routed"]:
    r = report(g)
    line = [n for n in r["notes"] if n.startswith("search set (held-out 1)")][0]
    m = re.search(r"= (\S+) ± (\S+) SE over (\d+) images, z = (\S+)", line)
    d, se, z = float(m.group(1)), float(m.group(2)), float(m.group(4))
    rows = {x["name"]: x for x in r["rows"]}
    s_c, s_p = rows["DeMe merged"]["search_set_mse"], rows["DeMe merged, per-model weights"]["search_set_mse"]
    print(f"  {g:7s} search-set eps-MSE {s_c:.5f} vs per-model {s_p:.5f}: Δ = {d:+.2e} ± {se:.1e} SE, z = {z:+.1f}"
          f"  ({os.path.getsize(os.path.join(root, g, 'search_deme_' + g + '.csv'))} B of records, {open(os.path.join(root, g, 'seconds')).read().strip()} s)")
    if z < -2: qualifying.append((s_c, g))
winner = min(qualifying)[1] if qualifying else None
print(f"  rule: adopt the lowest candidate that beats per-model by > 2 SE -> {'ADOPT ' + winner if winner else 'keep model (no candidate qualifies)'}")
print("2. REPORT set (held-out 2), read after the decision")
for g in ["block", "routed"]:
    rows = {x["name"]: x for x in report(g)["rows"]}
    c, p, e = rows["DeMe merged"], rows["DeMe merged, per-model weights"], rows["DeMe ensemble"]
    for label, a, b in [("vs per-model", c, p), ("vs ensemble", c, e)]:
        m, se, z = paired(a["per_image"], b["per_image"])
        print(f"  {g:7s} {label:13s} {a['held_out_mse']:.5f} − {b['held_out_mse']:.5f} = {m:+.2e} ± {se:.1e} SE, z = {z:+.1f}")
    if g == "block":
        m, se, z = paired(p["per_image"], e["per_image"])
        print(f"  per-model merge vs ensemble {p['held_out_mse']:.5f} − {e['held_out_mse']:.5f} = {m:+.2e} ± {se:.1e} SE, z = {z:+.1f}")
    print(f"  {g:7s} weights: {[round(w, 4) for w in c['weights']]}")
PY
