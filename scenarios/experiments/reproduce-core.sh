#!/bin/sh
# Reproduce every row of scenarios/experiments/results-core.md (run from the repository root after `make`).
# Output: one JSON line per epoch in runs/core/*.jsonl. Times on the 2-vCPU machine of the
# document: the vanilla and aux tables about 10 minutes; the "beyond" section about an
# hour (the 20,000-step gradient run alone is 40 minutes), so it only runs with BEYOND=1.
set -eu
Q=${QUINESIM:-build/quinesim}
MNIST=${MNIST:-data/mnist}
FASHION=${FASHION:-/usr/share/datasets/fashion-mnist}
OUT=${OUT:-runs/core}
# OpenBLAS 0.3.21 does not know this CPU and falls back to generic kernels; the fast ones
# do not change any result's meaning, only its last bits (see the Speed section).
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
mkdir -p "$OUT"

for seed in 1 2 3; do
    for cs in 1 0.1; do
        v="$Q train --model vanilla --coord-scale $cs --seed $seed --json"
        $v --epochs 30 > "$OUT/v_adamax_cs${cs}_s$seed.jsonl"
        $v --epochs 10 --regen-every 1 > "$OUT/v_regen_cs${cs}_s$seed.jsonl"
        for opt in sgd momentum adam adagrad rmsprop; do
            $v --epochs 30 --optimizer $opt > "$OUT/v_${opt}_cs${cs}_s$seed.jsonl"
        done
    done
done

for ds in mnist fashion; do
    if [ $ds = mnist ]; then D=$MNIST; else D=$FASHION; fi
    for seed in 1 2 3; do
        a="$Q train --model aux --data $D --seed $seed --json"
        task="--loss none --pairing separate --lambda 1"
        $a --epochs 30 > "$OUT/${ds}_paper_s$seed.jsonl"
        $a --epochs 30 --coord-scale 0.1 > "$OUT/${ds}_paper_cs0.1_s$seed.jsonl"
        $a --epochs 30 --epoch-unit images > "$OUT/${ds}_paperimg_s$seed.jsonl"
        $a --epochs 30 --temperature 1 > "$OUT/${ds}_paper_T1_s$seed.jsonl"
        $a --epochs 30 $task > "$OUT/${ds}_tasksteps_s$seed.jsonl"
        $a --epochs 30 $task --temperature 1 > "$OUT/${ds}_tasksteps_T1_s$seed.jsonl"
        $a --epochs 30 --epoch-unit images $task --temperature 1 > "$OUT/${ds}_taskT1_s$seed.jsonl"
    done
done

# The paper on its own split (MNIST 60,000 / 10,000): --recipe paper60k and the settings
# searched on the way to it (scenarios/experiments/results-core.md, "The paper on its own split").
for seed in 1 2 3; do
    a="$Q train --model aux --data $MNIST --seed $seed --json --epochs 30"
    task="--loss none --pairing separate --lambda 1 --epoch-unit images"
    $a --recipe paper60k > "$OUT/p60k_recipe_s$seed.jsonl"
    $a --epoch-unit images --temperature 0.1 > "$OUT/p60k_img_T0.1_s$seed.jsonl"
    $a --epoch-unit images --temperature 0.3 --init he > "$OUT/p60k_img_T0.3_he_s$seed.jsonl"
    $a --epoch-unit images --temperature 1 --init he > "$OUT/p60k_img_T1_he_s$seed.jsonl"
    $a $task --temperature 1 > "$OUT/p60k_task_T1_s$seed.jsonl"
    $a $task --temperature 0.1 --init he > "$OUT/p60k_task_T0.1_he_s$seed.jsonl"
done

if [ "${BEYOND:-0}" = 1 ]; then
    recipe="$Q train --model aux --full-batch --loss r2 --lambda 1 --temperature 1
            --pairing separate --images 100 --optimizer adam --lr 0.001 --data $MNIST --seed 1
            --json"
    # Gradient steps alone (quine-paper.md's recipe), 20,000 steps.
    $recipe --init he --steps 20000 --report-every 1000 > "$OUT/recipe_20k.jsonl"
    # Vanilla: the paper's quine, then Newton steps alone; then the repair test.
    $Q train --model vanilla --epochs 30 --seed 1 --json --save "$OUT/v30.genome" \
        > "$OUT/v30.jsonl"
    $Q train --from "$OUT/v30.genome" --newton-only --epochs 30 --newton 1 --newton-cg 60 \
        --json --save "$OUT/v_newton.genome" > "$OUT/v_newton.jsonl"
    $Q repair "$OUT/v_newton.genome" --damage 0.01 --cycles 3 > "$OUT/v_newton_repair.txt"
    # Aux: the recipe with Newton steps interleaved, then more of both, then with the
    # trust region on the logits of 512 training images.
    $recipe --init he --steps 4000 --report-every 100 --newton 2 --newton-cg 100 \
        --newton-keep 0 --save "$OUT/aux_A.genome" > "$OUT/aux_A.jsonl"
    $recipe --from "$OUT/aux_A.genome" --steps 1000 --report-every 100 --newton 4 \
        --newton-cg 100 --newton-keep 0 --save "$OUT/aux_A2.genome" > "$OUT/aux_A2.jsonl"
    $recipe --from "$OUT/aux_A2.genome" --steps 1000 --report-every 50 --newton 4 \
        --newton-cg 100 --newton-keep 512 --newton-keep-weight 10 \
        --save "$OUT/aux_C2.genome" > "$OUT/aux_C2.jsonl"
    $Q repair "$OUT/aux_C2.genome" --damage 0.01 --cycles 2 --data "$MNIST" \
        > "$OUT/aux_C2_repair.txt"
    # What did not work as well: Newton steps alone on the paper's aux quine, without and
    # with the trust region.
    $Q train --model aux --epochs 30 --seed 1 --data "$MNIST" --json \
        --save "$OUT/aux30.genome" > "$OUT/aux30.jsonl"
    $Q train --from "$OUT/aux30.genome" --newton-only --epochs 20 --newton 1 --newton-cg 60 \
        --newton-keep 0 --data "$MNIST" --json > "$OUT/aux30_newton.jsonl"
    $Q train --from "$OUT/aux30.genome" --newton-only --epochs 12 --newton 1 --newton-cg 60 \
        --data "$MNIST" --json > "$OUT/aux30_keep.jsonl"
    $recipe --from "$OUT/aux30.genome" --steps 1000 --report-every 50 --newton 2 \
        --newton-cg 60 --newton-keep 512 --newton-keep-weight 10 > "$OUT/aux30_C1.jsonl"
    $recipe --init he --lr 0.003 --steps 5000 --report-every 250 > "$OUT/recipe_lr3e-3.jsonl"
fi
echo "done: $OUT"
