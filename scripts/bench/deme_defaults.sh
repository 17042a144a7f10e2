#!/usr/bin/env bash
# How DeMe's finetuning defaults were chosen (docs/deme.md, "How the defaults were chosen").
# Runs `tvtool deme` for each candidate (lr × p at the given steps per range) on the bundled
# digits from the committed pretrained checkpoint, Fréchet distances off (not a selection input),
# and prints a table of SEARCH-set (held-out set 1) eps-MSE only:
#   deme   = merged model at its searched weights (best point of search_deme.csv)
#   plain  = equal-budget plain finetune, w = 1 (search_plain.csv)
#   interp = plain finetune interpolated toward pretrained, best w (best point of search_plain.csv)
# Selection rule (fixed before the runs): DeMe's defaults = the candidate with the lowest `deme`;
# the plain baseline's lr = the lr with the lowest `plain` at the same steps. The report set
# (held-out set 2) is never read here.
# Usage: scripts/bench/deme_defaults.sh [OUTDIR]   (env: LRS, PS, STEPS override the candidates;
#   PRETRAINED=FILE starts from another pretrained model (default: the bundled one, now the
#   block-conditioned MLP; PRETRAINED=fixtures/deme/pretrained.safetensors reproduces the first table);
#   TVTOOL=BINARY uses a prebuilt tvtool instead of building one)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-${TMPDIR:-/tmp}/deme-defaults-$$}
LRS=${LRS:-"5e-5 2e-4 1e-3"}
PS=${PS:-"0.3 0.5"}
STEPS=${STEPS:-"1000 2000"}
PRETRAINED=${PRETRAINED:-}
if [ -z "${TVTOOL:-}" ]; then
  swift build -c release --product tvtool >&2
  TVTOOL=.build/release/tvtool
fi
pre=()
if [ -n "$PRETRAINED" ]; then pre=(--pretrained "$PRETRAINED"); fi
for k in $STEPS; do
  for lr in $LRS; do
    # One folder per (K, lr): the plain finetune does not depend on p and is reused across p.
    dir="$OUT/k${k}_lr${lr}"
    for p in $PS; do
      tag="$OUT/runs/k${k}_lr${lr}_p${p}"
      if [ ! -f "$tag/search_deme.csv" ]; then
        start=$(date +%s)
        "$TVTOOL" deme --data digits "${pre[@]}" --steps-per-range "$k" --lr "$lr" --plain-lr "$lr" --p "$p" --fd-seeds "" -o "$dir" >&2
        mkdir -p "$tag"
        cp "$dir"/search_deme.csv "$dir"/search_plain.csv "$dir"/report.json "$tag"/
        echo "$(( $(date +%s) - start ))" > "$tag/seconds"
      fi
    done
  done
done
python3 - "$OUT/runs" <<'PY'
import csv, os, sys
root = sys.argv[1]
def rows(path):
    # Search logs (TVSearch records): weight columns, `status` and `value`; failed points skipped.
    with open(path) as f:
        out = []
        for r in csv.DictReader(f):
            if r.get("status", "ok") != "ok":
                continue
            w = {k: float(v) for k, v in r.items() if k == "w" or (k.startswith("w") and k[1:].isdigit())}
            w["objective"] = float(r["value"] if "value" in r else r["objective"])
            out.append(w)
        return out
print(f"{'steps/range':>11} {'lr':>6} {'p':>4} | {'deme (search)':>13} {'plain (search)':>14} {'interp (search)':>15} | weights (deme) / w (interp) | s")
res = []
for name in sorted(os.listdir(root)):
    k, lr, p = name[1:].split("_")
    d = rows(os.path.join(root, name, "search_deme.csv"))
    pl = rows(os.path.join(root, name, "search_plain.csv"))
    best = min(d, key=lambda r: r["objective"])
    plain = [r for r in pl if r["w"] == 1.0][0]["objective"]
    ib = min(pl, key=lambda r: r["objective"])
    w = [best[c] for c in best if c.startswith("w")]
    secs = open(os.path.join(root, name, "seconds")).read().strip()
    res.append((int(k), lr[2:], p[1:], best["objective"], plain, ib["objective"]))
    print(f"{k:>11} {lr[2:]:>6} {p[1:]:>4} | {best['objective']:13.5f} {plain:14.5f} {ib['objective']:15.5f} | {w} / {ib['w']} | {secs}")
b = min(res, key=lambda r: r[3])
print(f"rule → DeMe defaults: steps/range {b[0]}, lr {b[1]}, p {b[2]} (search-set eps-MSE {b[3]:.5f})")
for k in sorted({r[0] for r in res}):
    pb = min((r for r in res if r[0] == k), key=lambda r: r[4])
    print(f"rule → plain baseline at {k} steps/range: lr {pb[1]} (search-set eps-MSE {pb[4]:.5f})")
PY
