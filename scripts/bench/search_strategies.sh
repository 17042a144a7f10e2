#!/usr/bin/env bash
# How many evaluations each search strategy needs to come within one standard error of the full
# grid's best point, on the built-in digits objective: the DeMe weight search of the main job
# (pretrained fixtures/deme/pretrained.safetensors + the 4 range finetunes `tvtool deme` produces,
# base = the pretrained model with identity projections), scored by `tvtool search`'s built-in
# held-out eps-MSE (held-out set 1, 16 timesteps per image, seed 0; its standard error is over
# images). Prints a markdown table (docs/sweeps.md).
#
#   scripts/bench/search_strategies.sh                 # GRID=0:1:11 (14641 points), JOBS=2
#   GRID=0:1:6 SEEDS="0 1 2" OUT=/tmp/sb scripts/bench/search_strategies.sh
#   STEPS=200 …             # shorter range finetunes (the main job's default is 2000 per range)
#   FINETUNES=dir …         # reuse a deme run's finetunes folder
#   GRID_TVTOOL=path …      # another (e.g. release) binary for the full grid only
#   TABLE_ONLY=1 …          # only print the table from the folders already in OUT
#
# Random, sobol and cmaes get a budget of a tenth of the grid (--max-evals); coord and grid run to
# their own end. "evals to 1 SE" is the position, in evaluation order, of the first point whose
# value is within one SE of the grid's best (for seeded strategies: each seed's count).
set -euo pipefail
cd "$(dirname "$0")/../.."
GRID=${GRID:-0:1:11}
JOBS=${JOBS:-2}
SEEDS=${SEEDS:-"0 1 2"}
OUT=${OUT:-/tmp/tvtool-bench-search}
TVTOOL=${TVTOOL:-.build/release/tvtool}
[ -x "$TVTOOL" ] || swift build -c release --product tvtool >&2

STEPS=${STEPS:-2000}
GRID_TVTOOL=${GRID_TVTOOL:-$TVTOOL}
mkdir -p "$OUT"
FT=${FINETUNES:-$OUT/deme/finetunes}
if [ ! -f "$FT/base_identity_projections.safetensors" ]; then
  echo "making the range finetunes (tvtool deme, default settings but --steps-per-range $STEPS, no Fréchet distances)…" >&2
  "$TVTOOL" deme --fd-seeds '' --steps-per-range "$STEPS" --strategy grid --grid 0,1 --refine 0 -o "$OUT/deme" > /dev/null
fi
BASE="$FT/base_identity_projections.safetensors"
MODELS=$(ls "$FT"/deme_range*.safetensors | sort -V)

run() {  # name, extra args…
  local name=$1; shift
  "$TVTOOL" search "$BASE" $MODELS --grid "$GRID" --jobs "$JOBS" --quiet -o "$OUT/$name" "$@" > /dev/null
}

if [ -n "${TABLE_ONLY:-}" ]; then :
elif [ "$GRID_TVTOOL" = "$TVTOOL" ]; then run grid --strategy grid
else "$GRID_TVTOOL" search "$BASE" $MODELS --grid "$GRID" --jobs "$JOBS" --quiet -o "$OUT/grid" > /dev/null; fi
POINTS=$(python3 -c "import csv,sys; print(sum(1 for _ in csv.DictReader(open('$OUT/grid/results.csv'))))")
# The grid's best point once more with $TVTOOL, which records the standard error over images.
BEST_GRIDS=$(python3 -c "
import csv; rs=[r for r in csv.DictReader(open('$OUT/grid/results.csv')) if r['status']=='ok']
b=min(rs,key=lambda r: float(r['value'])); print(' '.join('--grid '+r for r in b['id'].split(',')))")
"$TVTOOL" search "$BASE" $MODELS $BEST_GRIDS --strategy grid --quiet -o "$OUT/grid_best" > /dev/null
BUDGET=$(( (POINTS + 9) / 10 ))
if [ -z "${TABLE_ONLY:-}" ]; then
  run coord --strategy coord
  run coord_refine2 --strategy coord --refine 2
  for s in $SEEDS; do
    run random_$s --strategy random --max-evals "$BUDGET" --search-seed "$s"
    run cmaes_$s --strategy cmaes --max-evals "$BUDGET" --search-seed "$s"
  done
  run sobol --strategy sobol --max-evals "$BUDGET"
fi

python3 - "$OUT" "$GRID" "$BUDGET" $SEEDS <<'PY'
import csv, sys, os
out, grid, budget, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
def rows(name):
    return [r for r in csv.DictReader(open(os.path.join(out, name, "results.csv"))) if r["status"] == "ok"]
g = rows("grid")
best = min(g, key=lambda r: float(r["value"]))
se = float(rows("grid_best")[0]["standard_error"])
best["standard_error"] = se
target = float(best["value"]) + se
def first(rs, limit):
    return next((k for k, r in enumerate(rs, 1) if float(r["value"]) <= limit), None)
def reach(name):
    rs = rows(name)
    return first(rs, target), len(rs), min(float(x["value"]) for x in rs), first(rs, float(best["value"]) + 1e-9)
print(f"grid {grid}: {len(g)} points; best {best['id']} eps-MSE {float(best['value']):.6f} ± {float(best['standard_error']):.6f} (SE); target <= {target:.6f}")
print(f"budget of random/sobol/cmaes: {budget} evaluations (a tenth of the grid)\n")
print("| strategy | evals to within 1 SE of the grid's best | evals to the grid's best value or better | evals used | best found | share of the grid's evals (1 SE) |")
print("|---|---|---|---|---|---|")
names = ["grid", "coord", "coord_refine2", "sobol"] + [f"random_{s}" for s in seeds] + [f"cmaes_{s}" for s in seeds]
for n in names:
    if not os.path.exists(os.path.join(out, n, "results.csv")):
        print(f"| {n} | (not run) | | | | |")
        continue
    k, used, b, exact = reach(n)
    share = f"{k / len(g):.1%}" if k else "not reached"
    label = {"coord_refine2": "coord + --refine 2"}.get(n, n.replace("_", " seed "))
    print(f"| {label} | {k if k else '—'} | {exact if exact else 'not reached'} | {used} | {b:.6f} | {share} |")
PY
