#!/bin/sh
# What bf16 regeneration and evaluation do to fidelity and to evolution: the precision
# tables of scenarios/experiments/results.md ("Precision: fp32 or bf16"). Run from the repository root
# after `make` and `make data`, on a CPU with native bf16 (AVX-512 BF16 or AMX; elsewhere
# bf16 falls back to fp32 and both columns agree). Parts (default all):
#   repair     quinesim repair at --precision fp32 and bf16 on the genomes of
#              `make experiments` (EXP, default runs/experiments; ONLY='paper tradeoff
#              evolve' makes them): 10/30/50% zeroed, all or only the damaged weights
#              regenerated, 3 cycles, seeds 1-3 (about 1 minute)
#   quickstart scenarios/quickstart.ini at both precisions, seeds 1-6 (QS_SEEDS): the
#              final generation's mean self-prediction R^2 (about 3 minutes)
#   evolve     scenarios/experiments/evolve.ini, self and copy, at both precisions,
#              seeds 1-3, GENS generations (default 20; about 25 minutes on 2 cores)
# Output in OUT (default runs/precision); the tables on stdout.
set -eu
Q=${QUINESIM:-build/quinesim}
MNIST=${MNIST:-data/mnist}
EXP=${EXP:-runs/experiments}
OUT=${OUT:-runs/precision}
GENS=${GENS:-20}
SEEDS=${SEEDS:-1 2 3}
QS_SEEDS=${QS_SEEDS:-1 2 3 4 5 6}
PARTS=${*:-repair quickstart evolve}
PY=/usr/bin/python3
mkdir -p "$OUT"

run_repair() {
    d="$OUT/repair"
    mkdir -p "$d"
    for name in evolved-self:evolve/self/seed-1/best.genome \
        evolved-copy:evolve/copy/seed-1/best.genome trained-paper:paper/mnist_paper_s1.genome; do
        g="$EXP/${name#*:}"
        name=${name%%:*}
        [ -f "$g" ] || { echo "reproduce-precision: $g missing (make experiments ONLY='paper evolve')" >&2; continue; }
        for dmg in 0.1 0.3 0.5; do for seed in $SEEDS; do for p in fp32 bf16; do
            $Q repair "$g" --damage $dmg --cycles 3 --seed $seed --data "$MNIST" --json \
                --precision $p > "$d/${name}_d${dmg}_full_s${seed}_$p.jsonl"
            $Q repair "$g" --damage $dmg --cycles 3 --only-damaged --seed $seed --data "$MNIST" \
                --json --precision $p > "$d/${name}_d${dmg}_only_s${seed}_$p.jsonl"
        done; done; done
    done
    $PY - "$d" <<'EOF'
import glob, json, os, sys, statistics as st
rows = {}
for f in sorted(glob.glob(sys.argv[1] + "/*.jsonl")):
    name, dmg, mode, seed, prec = os.path.basename(f)[:-6].split("_")
    L = [json.loads(l) for l in open(f)]
    orig = next(x for x in L if x["stage"] == "original")
    dam = next(x for x in L if x["stage"] == "damaged")
    c3 = [x for x in L if x["stage"] == "cycle"][-1]
    rows.setdefault((name, dmg[1:], mode), {}).setdefault(prec, []).append(
        (orig["r2"], orig["acc"], dam["acc"], c3["acc"], c3["restored"], c3["r2"]))
print("| genome | damage | regenerated | R^2 fp32 / bf16 | accuracy damaged -> after 3 cycles, fp32 | the same, bf16 | restored fp32 / bf16 | R^2 after 3 cycles fp32 / bf16 |")
# (means over the seeds)
print("|---|---|---|---|---|---|---|---|")
m = lambda v, i: st.mean(x[i] for x in v)
for (name, dmg, mode), by in rows.items():
    a, b = by["fp32"], by["bf16"]
    print(f"| {name} | {dmg} | {'all' if mode == 'full' else 'damaged only'} | "
          f"{m(a,0):.4f} / {m(b,0):.4f} | {100*m(a,2):.2f}% -> {100*m(a,3):.2f}% | "
          f"{100*m(b,2):.2f}% -> {100*m(b,3):.2f}% | {m(a,4):.4f} / {m(b,4):.4f} | "
          f"{m(a,5):.4f} / {m(b,5):.4f} |")
EOF
}

run_evolve() {
    d="$OUT/evolve"
    mkdir -p "$d"
    for seed in $SEEDS; do for mode in self copy; do for p in fp32 bf16; do
        $Q run scenarios/experiments/evolve.ini --out "$d/${mode}_${p}_s$seed" --force --quiet \
            --data "$MNIST" --set run.generations="$GENS" --set run.seed="$seed" \
            --set replication.mode=$mode --set replication.precision=$p
    done; done; done
    $PY - "$d" "$GENS" <<'EOF'
import csv, glob, os, sys, statistics as st
d, gens = sys.argv[1], int(sys.argv[2])
last = max(1, gens // 4)  # the mean over the last quarter of the generations
out = {}
for f in sorted(glob.glob(d + "/*/generations.csv")):
    mode, prec, seed = os.path.basename(os.path.dirname(f)).split("_")
    R = list(csv.DictReader(open(f)))[-last:]
    acc = st.mean(float(r["mean_accuracy"]) for r in R)
    r2 = st.mean(float(r["mean_r2"]) for r in R)
    link = [float(r["mean_link_r2"]) for r in R if r["mean_link_r2"]]
    out.setdefault((mode, prec), []).append((acc, r2, st.mean(link) if link else float("nan")))
print(f"| replication | precision | mean accuracy (%) | self-prediction R^2 | replication R^2 of the births | seeds |")
print("|---|---|---|---|---|---|")
def ms(v, d=4):
    return f"{st.mean(v):.{d}f} ± {st.stdev(v):.{d}f}" if len(v) > 1 else f"{v[0]:.{d}f}"
for (mode, prec), v in sorted(out.items(), key=lambda kv: (kv[0][0] != "self", kv[0][1])):
    accs = [100 * x[0] for x in v]
    print(f"| {mode} | {prec} | {ms(accs, 2)} | {ms([x[1] for x in v])} | "
          f"{ms([x[2] for x in v])} | {len(v)} |")
print(f"(means over the last {last} of {gens} generations, then over seeds: mean ± sd)")
EOF
}

run_quickstart() {
    d="$OUT/quickstart"
    mkdir -p "$d"
    for seed in $QS_SEEDS; do for p in fp32 bf16; do
        $Q run scenarios/quickstart.ini --out "$d/${p}_s$seed" --force --quiet --data "$MNIST" \
            --set run.seed="$seed" --set replication.precision=$p
    done; done
    $PY - "$d" <<'EOF'
import csv, glob, os, sys, statistics as st
v = {}
for f in sorted(glob.glob(sys.argv[1] + "/*/generations.csv")):
    prec, seed = os.path.basename(os.path.dirname(f)).split("_")
    last = list(csv.DictReader(open(f)))[-1]
    v.setdefault(prec, []).append((float(last["mean_r2"]), float(last["mean_accuracy"]),
                                   float(last["mean_link_r2"])))
print("| precision | final mean self-prediction R^2 | final mean accuracy (%) | final mean link R^2 | seeds |")
print("|---|---|---|---|---|")
for p in ("fp32", "bf16"):
    x = v.get(p, [])
    if x:
        f = lambda i, s=1: f"{st.mean(s * y[i] for y in x):.3f} ± {st.stdev(s * y[i] for y in x):.3f}"
        print(f"| {p} | {f(0)} | {f(1, 100)} | {f(2)} | {len(x)} |")
EOF
}

for part in $PARTS; do
    case $part in
    repair) run_repair ;;
    quickstart) run_quickstart ;;
    evolve) run_evolve ;;
    *) echo "reproduce-precision: unknown part '$part' (repair, quickstart, evolve)" >&2; exit 2 ;;
    esac
done
