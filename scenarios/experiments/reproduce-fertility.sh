#!/bin/sh
# Reproduce the fertility tables of scenarios/experiments/results.md, section 7 (run from the repository
# root after `make` and `make data`). Output in runs/fertility/: the genomes, each
# training's JSON lines and each lineage's (`quinesim fertility --json`). Seed 1 only.
# Times on the project's 2-vCPU machine: the genomes about 3 minutes, each attempt of 1,000
# fertile steps about 4 minutes (0.19 s a step; `make bench` times one); the binary genomes
# (W) about 2 minutes, the repair attempts (X) about 6, the lineage-following ones (Y) 38.
set -eu
Q=${QUINESIM:-build/quinesim}
MNIST=${MNIST:-data/mnist}
OUT=${OUT:-runs/fertility}
mkdir -p "$OUT"

# Today's organisms (scenarios/experiments/reproduce-core.sh's recipes; the quickstart survivor is
# runs/quickstart/best.genome after `make run`).
$Q train --model aux --epochs 30 --seed 1 --data "$MNIST" --json --save "$OUT/aux30.genome" \
    > "$OUT/aux30.jsonl"
$Q train --model vanilla --epochs 30 --seed 1 --json --save "$OUT/v30.genome" > "$OUT/v30.jsonl"
$Q train --from "$OUT/v30.genome" --newton-only --epochs 30 --newton 1 --newton-cg 60 --json \
    --save "$OUT/v_newton.genome" > "$OUT/v_newton.jsonl"
[ -f runs/quickstart/best.genome ] || $Q run scenarios/quickstart.ini --out runs/quickstart --force
cp runs/quickstart/best.genome "$OUT/quickstart.genome"

# The baseline: 20 generations of pure regeneration, plain and standardized.
for g in aux30 v30 v_newton quickstart; do
    for r in plain standardize; do
        $Q fertility "$OUT/$g.genome" --regen $r --data "$MNIST" --json > "$OUT/$g.$r.jsonl"
    done
done

# Attempts: fertile steps from the Newton copier (A-G) and from the aux genomes (H, I).
attempt() {
    name=$1
    from=$2
    shift 2
    $Q train --from "$OUT/$from.genome" --fertile-only --json --data "$MNIST" "$@" \
        --save "$OUT/$name.genome" > "$OUT/$name.jsonl"
    for r in plain standardize; do
        $Q fertility "$OUT/$name.genome" --regen $r --data "$MNIST" --json > "$OUT/$name.$r.jsonl"
    done
}
attempt A v_newton --fertile 20 --epochs 10 --fertile-lr 1e-5
attempt B v_newton --fertile 20 --epochs 10 --fertile-lr 1e-5 --fertile-sink 0 --fertile-gens 1
attempt C v_newton --fertile 20 --epochs 10 --fertile-lr 1e-5 --fertile-contraction 0 \
    --fertile-gens 1
attempt D v_newton --fertile 100 --epochs 10 --fertile-lr 1e-5 --fertile-sink 10 \
    --fertile-contraction 0
attempt E v_newton --fertile 100 --epochs 10 --fertile-lr 3e-6 --fertile-sink 10 --fertile-rho 0.9
attempt F v_newton --fertile 100 --epochs 10 --fertile-lr 1e-5 --fertile-sink 10 \
    --fertile-contraction 0 --fertile-regen standardize
attempt G v_newton --fertile 100 --epochs 10 --fertile-lr 1e-5 --fertile-sink 10 --fertile-rho 0.9 \
    --fertile-regen standardize
attempt H aux30 --fertile 50 --epochs 10 --fertile-lr 1e-4 --fertile-gens 2 --fertile-sink 1 \
    --fertile-contraction 0 --fertile-regen standardize
attempt I quickstart --fertile 50 --epochs 10 --fertile-lr 3e-5 --fertile-gens 3 --fertile-sink 10 \
    --fertile-contraction 0 --fertile-regen standardize
attempt J G --fertile 100 --epochs 10 --fertile-lr 1e-5 --fertile-sink 10 --fertile-rho 0.9 \
    --fertile-regen standardize
attempt K G --fertile 100 --epochs 10 --fertile-lr 3e-6 --fertile-sink 10 --fertile-rho 0.9 \
    --fertile-contraction 0.1 --fertile-regen standardize
$Q train --from "$OUT/G.genome" --newton-only --newton 1 --epochs 10 --newton-cg 60 --json \
    --save "$OUT/L.genome" > "$OUT/L.jsonl"
$Q fertility "$OUT/L.genome" --regen standardize --json > "$OUT/L.standardize.jsonl"
# Levenberg-Marquardt on copy and contraction together (M from the Newton copier, N from M).
lm() {
    name=$1
    from=$2
    c=$3
    w=${4:-0}
    shift $(($# < 4 ? $# : 4))
    $Q train --from "$OUT/$from.genome" --fertile-only --fertile-newton 2 --fertile-newton-c $c \
        --fertile-newton-child $w --fertile-regen standardize --epochs 20 --json "$@" \
        --save "$OUT/$name.genome" > "$OUT/$name.jsonl"
    $Q fertility "$OUT/$name.genome" --regen standardize --json > "$OUT/$name.standardize.jsonl"
}
lm M v_newton 0.01
lm M2 v_newton 0.001
lm N M 0.01
lm N2 M 0.03
lm P N2 0.03 1
lm Q v_newton 0.01 1
lm P2 P 0.1 1
lm R N2 0.1 0
# The stretch term (--fertile-stretch): in the LM steps (S from the Newton copier, T from R,
# V from N2 with the child's copy error, as P) and in the first-order objective (U, F's
# options); `quinesim fertility --json` prints the stretch |J r| / |r| at theta_0.
lm S v_newton 0.01 0 --fertile-stretch 1e-4
lm T R 0.1 0 --fertile-stretch 0.003
lm T2 R 0.1 0 --fertile-stretch 0.03
lm V N2 0.03 1 --fertile-stretch 0.003
attempt U v_newton --fertile 100 --epochs 10 --fertile-lr 1e-5 --fertile-sink 10 \
    --fertile-contraction 0 --fertile-regen standardize --fertile-stretch 1e-3
# A digital genome (attempt W): binary genomes trained on the hinge loss, followed under
# sign regeneration; the rates and sizes of results.md's paragraph.
binary() {
    name=$1
    shift
    $Q train --model vanilla --binary --loss hinge --init he --seed 1 --json "$@" \
        --save "$OUT/$name.genome" > "$OUT/$name.jsonl"
    $Q fertility "$OUT/$name.genome" --regen sign --json > "$OUT/$name.sign.jsonl"
}
for lr in 1e-2 1e-3 1e-4; do
    binary W-adam-$lr --epochs 10 --optimizer adam --lr $lr --refresh step
done
binary W-adam-1e-4-epoch --epochs 10 --optimizer adam --lr 1e-4 --refresh epoch
binary W-sgd-1e-3 --epochs 10 --optimizer sgd --lr 1e-3 --refresh step
binary W-sgd-1e-2 --epochs 10 --optimizer sgd --lr 1e-2 --refresh step
binary W-full --full-batch --epochs 300 --optimizer adam --lr 1e-4
for h in 8 32; do
    for lr in 1e-2 1e-3 1e-4; do
        binary W-h$h-$lr --hidden $h --full-batch --epochs 3000 --optimizer adam --lr $lr
    done
done

# Training for repair (attempts X1-X5): the paper60k aux quine and its Newton copier, then
# 1,000 Adam steps with the repair term; the repair protocol at 30 % damage, seeds 1-3.
$Q train --model aux --recipe paper60k --seed 1 --data "$MNIST" --json \
    --save "$OUT/a60k.genome" > "$OUT/a60k.jsonl"
$Q train --from "$OUT/a60k.genome" --newton-only --epochs 30 --newton 1 --newton-cg 60 \
    --data "$MNIST" --json --save "$OUT/a60k_newton.genome" > "$OUT/a60k_newton.jsonl"
repair_attempt() {
    name=$1
    from=$2
    shift 2
    if [ "$name" != "$from" ]; then
        $Q train --from "$OUT/$from.genome" --fertile-only --fertile 200 --epochs 5 \
            --fertile-gens 1 --fertile-sink 0 --fertile-contraction 0 --data "$MNIST" --json \
            "$@" --save "$OUT/$name.genome" > "$OUT/$name.jsonl"
    fi
    for s in 1 2 3; do
        $Q repair "$OUT/$name.genome" --damage 0.3 --cycles 3 --only-damaged --seed $s \
            --data "$MNIST" --json > "$OUT/$name.repair$s.jsonl"
    done
}
repair_attempt a60k a60k
repair_attempt a60k_newton a60k_newton
repair_attempt X1 a60k --fertile-repair 1 --fertile-lr 1e-4
repair_attempt X2 a60k --fertile-repair 30 --fertile-lr 1e-4
repair_attempt X3 a60k_newton --fertile-repair 3 --fertile-lr 1e-5
repair_attempt v_newton v_newton
repair_attempt X4 v_newton --fertile-repair 10 --fertile-lr 1e-5
repair_attempt X5 v_newton --fertile-repair 10 --fertile-repair-frac 0.05 --fertile-lr 1e-5
for g in v_newton X4 X5; do
    $Q repair "$OUT/$g.genome" --damage 0.05 --cycles 3 --only-damaged --json \
        > "$OUT/$g.repair-5pc.jsonl"
done
# Training that follows the lineage (attempt Y): from P, every epoch the genome is replaced
# by its standardized child (--regen-every 1), then 5 power steps and 4 Levenberg-Marquardt
# steps on copy, contraction and the child's copy; 60 epochs (12 minutes here), then 120 more.
follow() {
    name=$1
    from=$2
    epochs=$3
    $Q train --from "$OUT/$from.genome" --fertile-only --fertile-newton 4 --fertile-newton-c 0.03 \
        --fertile-newton-child 1 --fertile-regen standardize --regen-every 1 --epochs "$epochs" \
        --json --save "$OUT/$name.genome" > "$OUT/$name.jsonl"
    $Q fertility "$OUT/$name.genome" --regen standardize --json > "$OUT/$name.standardize.jsonl"
}
follow Y8 P 8
follow Y60 P 60
follow Y180 Y60 120
echo "done: $OUT"
