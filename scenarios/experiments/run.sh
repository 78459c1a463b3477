#!/bin/sh
# scenarios/experiments/run.sh: every experiment of scenarios/experiments/results.md, from the runs to the
# tables and the figures. `make experiments` runs it (QUICK=1 for the short variant).
#
#   paper      the paper's single-network experiments (the commands of
#              scenarios/experiments/reproduce-core.sh): vanilla quine with six optimizers and with
#              regeneration; aux quine on MNIST and Fashion-MNIST, and the task alone
#   tradeoff   single aux quines over lambda (task weight) with the scale-free loss 1 - R^2
#   evolve     populations (scenarios/experiments/evolve.ini, evolve-r2.ini): self vs copy
#              inheritance, and fidelity under selection on accuracy / random parents /
#              selection on fidelity
#   arena      scenarios/arena.ini under five FLOP budgets: which species wins
#   repair     damage 10/30/50% of the weights of evolved and trained quines, regenerate
#   fertility  lineages of pure regeneration (quinesim fertility) of the paper quine, the
#              Newton copier and the fertile recipe, self-repair over generations, and
#              self vs copy inheritance with fertile lives ([life] recipe = fertile)
#   islands    scenarios/experiments/islands.ini: the same 48 aux quines as 1, 4 or 16
#              islands (ring, a migrant every 5 generations): accuracy, fidelity, diversity
#
# Output: raw results in runs/experiments/<experiment>/. A population condition is one
# `quinesim run --seeds` (--sweep where a key varies), its runs on one pool of JOBS workers
# in evolve/<condition>/seed-N/, arena/budget.flops_per_generation=B,seed-N/,
# islands/islands.count=C,seed-N/, fertility/{fertile,paper}-life/replication.mode=M,seed-N/
# (each call's output next to its folder: evolve/self.log, arena.log, ...). Every table on
# standard output and as Markdown in runs/experiments/RESULTS.md, figures (PNG) in
# scenarios/experiments/figures/ (with their data and gnuplot scripts in
# runs/experiments/figures/); the full variant also copies
# its tables to scenarios/experiments/experiments.md. QUICK=1 draws its figures in runs/experiments/figures/
# and writes nothing under scenarios/experiments/, so that the committed tables and figures stay the full run's.
#
# Measured on the project's 2-vCPU machine (AMD EPYC, MNIST 60,000 / 10,000, sharing the CPUs
# with other jobs), when each seed was still a run of its own: the full variant took 1,697 s
# (28 minutes), QUICK=1 447 s while the full variant ran beside it (each run's durations are
# at the top of RESULTS.md).
#
# Environment: QUICK=1 short variant; ONLY="tradeoff arena" runs only these experiments
# (the tables and figures of the others are remade from their raw results if present;
# ONLY=tables runs nothing and remakes them all);
# JOBS (default 2) parallel single-network jobs and workers per population condition;
# QUINESIM, OUT, FIG (where the PNGs go), DOC (where the full tables go), MNIST, FASHION
# override paths. Everything is deterministic: the same command on the same CPU type gives
# the same numbers.
set -eu

Q=${QUINESIM:-build/quinesim}
OUT=${OUT:-runs/experiments}
FIG=${FIG:-}
MNIST=${MNIST:-data/mnist}
# Fashion-MNIST: `make data-fashion` links it into data/; Debian's package installs it here.
if [ -z "${FASHION:-}" ]; then
    FASHION=/usr/share/datasets/fashion-mnist
    [ -d data/fashion-mnist ] && FASHION=data/fashion-mnist
fi
JOBS=${JOBS:-2}
QUICK=${QUICK:-}
[ "$QUICK" = 0 ] && QUICK=
ALL="paper tradeoff evolve arena repair fertility islands"
ONLY=${ONLY:-$ALL}
[ "$ONLY" = tables ] && ONLY=" "
HERE=scenarios/experiments

[ -f scenarios/experiments/run.sh ] ||
    { echo "run.sh: run me from the repository root (make experiments)" >&2; exit 2; }
[ -x "$Q" ] || { echo "run.sh: $Q not found: run make first" >&2; exit 1; }
[ -f "$MNIST/t10k-labels-idx1-ubyte" ] || [ -f "$MNIST/t10k-labels-idx1-ubyte.gz" ] ||
    { echo "run.sh: no MNIST in $MNIST: run make data first" >&2; exit 1; }
# The split sizes the tables name (60k/10k for the full MNIST `make data` installs).
MNIST_TRAIN=$("$Q" data check "$MNIST" | awk '$1 == "train" {print $2}')
MNIST_TEST=$("$Q" data check "$MNIST" | awk '$1 == "test" {print $2}')
MNIST_SPLIT="$((MNIST_TRAIN / 1000))k/$((MNIST_TEST / 1000))k"
command -v gnuplot >/dev/null || { echo "run.sh: gnuplot missing (make deps)" >&2; exit 1; }

if [ -n "$QUICK" ]; then VARIANT=quick; else VARIANT=full; fi
# The committed figures (scenarios/experiments/figures) are the full run's: the short variant draws its own
# next to its data unless FIG says otherwise.
if [ -z "$FIG" ]; then
    if [ -n "$QUICK" ]; then FIG=$OUT/figures; else FIG=scenarios/experiments/figures; fi
fi
DOC=${DOC-}
[ -z "$DOC" ] && [ -z "$QUICK" ] && DOC=scenarios/experiments/experiments.md

mkdir -p "$OUT" "$FIG" "$OUT/figures"
OUTA=$(cd "$OUT" && pwd); FIGA=$(cd "$FIG" && pwd) # gnuplot scripts use absolute paths

# ---- sizes of the two variants -----------------------------------------------------------
if [ -n "$QUICK" ]; then
    PAPER_SEEDS="1"
    TO_SEEDS="1"; TO_LAMBDAS="0 0.1 1 10 100"; TO_STEPS=2000
    EV_SEEDS="1 2"; EV_GENS=20; R2_SEEDS="1"; R2_GENS=10
    AR_SEEDS="1 2"; AR_GENS=20
    RP_SEEDS="1"
    FE_SEEDS="1"; FE_EPOCHS=2; FE_POP_GENS=3
    IS_SEEDS="1"; IS_GENS=10
else
    PAPER_SEEDS="1 2 3"
    TO_SEEDS="1 2 3"; TO_LAMBDAS="0 0.01 0.1 1 10 100 1000"; TO_STEPS=10000
    EV_SEEDS="1 2 3 4 5"; EV_GENS=50; R2_SEEDS="1 2 3"; R2_GENS=20
    AR_SEEDS="1 2 3 4 5"; AR_GENS=40
    RP_SEEDS="1 2 3"
    FE_SEEDS="1 2 3"; FE_EPOCHS=10; FE_POP_GENS=10
    IS_SEEDS="1 2 3"; IS_GENS=20
fi
IS_COUNTS="1 4 16"
AR_BUDGETS="2e9 2e10 2.75e10 4e10 0"
DAMAGES="0.1 0.3 0.5"

# ---- helpers -----------------------------------------------------------------------------
say() { printf '%s\n' "$*"; }
commas() { echo "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; } # 10000 -> 10,000
now() { date +%s; }

# par: run the commands of standard input (one per line) JOBS at a time.
par() { xargs -d '\n' -P "$JOBS" -n 1 sh -c; }

# Markdown output: each table goes to standard output and to RESULTS.md.
RES="$OUT/RESULTS.md.tmp"
md() { printf '%s\n' "$*" >> "$RES"; printf '%s\n' "$*"; }
mdcat() { tee -a "$RES"; }

# awk functions shared by the tables: JSON fields, mean and standard deviation.
AWKLIB='
function jget(s, k,    v) {
    if (!match(s, "\"" k "\":[^,}]*")) return "nan"
    v = substr(s, RSTART + length(k) + 3, RLENGTH - length(k) - 3)
    return v == "null" || v == "" ? "nan" : v
}
function finite(x) { return x ~ /^[-+]?[0-9.]/ && x + 0 < 1e300 && x + 0 > -1e300 }
function mean(a, n,    i, s) { s = 0; for (i = 1; i <= n; i++) s += a[i]; return n ? s / n : 0 }
function sd(a, n,    i, m, s) {
    if (n < 2) return 0
    m = mean(a, n); s = 0
    for (i = 1; i <= n; i++) s += (a[i] - m) ^ 2
    return sqrt(s / (n - 1))
}
function g3(x) { return sprintf("%.3g", x) }
'

# ---- 1. paper reproductions ----------------------------------------------------------------
run_paper() {
    d="$OUT/paper"; rm -rf "$d"; mkdir -p "$d"
    {
        for seed in $PAPER_SEEDS; do for cs in 1 0.1; do
            v="$Q train --model vanilla --coord-scale $cs --seed $seed --json"
            say "$v --epochs 30 > $d/v_adamax_cs${cs}_s$seed.jsonl"
            say "$v --epochs 10 --regen-every 1 > $d/v_regen_cs${cs}_s$seed.jsonl"
            for opt in sgd momentum adam adagrad rmsprop; do
                say "$v --epochs 30 --optimizer $opt > $d/v_${opt}_cs${cs}_s$seed.jsonl"
            done
        done; done
        for ds in mnist fashion; do
            if [ $ds = mnist ]; then D=$MNIST; else D=$FASHION; fi
            if [ $ds = fashion ] && ! [ -e "$D/t10k-labels-idx1-ubyte.gz" ] &&
                ! [ -e "$D/t10k-labels-idx1-ubyte" ]; then
                echo "run.sh: no Fashion-MNIST in $D (make data-fashion): its rows are skipped" >&2
                continue
            fi
            for seed in $PAPER_SEEDS; do
                a="$Q train --model aux --data $D --seed $seed --json"
                task="--loss none --pairing separate --lambda 1"
                save=""; [ $ds = mnist ] && [ "$seed" = 1 ] && save="--save $d/mnist_paper_s1.genome"
                say "$a --epochs 30 $save > $d/${ds}_paper_s$seed.jsonl"
                say "$a --epochs 30 --coord-scale 0.1 > $d/${ds}_paper_cs0.1_s$seed.jsonl"
                say "$a --epochs 30 --epoch-unit images > $d/${ds}_paperimg_s$seed.jsonl"
                say "$a --recipe paper60k > $d/${ds}_paper60k_s$seed.jsonl"
                say "$a --epochs 30 --temperature 1 > $d/${ds}_paper_T1_s$seed.jsonl"
                say "$a --epochs 30 $task > $d/${ds}_tasksteps_s$seed.jsonl"
                say "$a --epochs 30 $task --temperature 1 > $d/${ds}_tasksteps_T1_s$seed.jsonl"
                say "$a --epochs 30 --epoch-unit images $task --temperature 1 > $d/${ds}_taskT1_s$seed.jsonl"
            done
        done
    } > "$d/commands.txt"
    par < "$d/commands.txt"
}

# One line per .jsonl file: stem seed, then the first and the last report's fields.
paper_summary() {
    awk "$AWKLIB"'
    function out(f, a, b,    stem, seed) {
        stem = f; sub(/.*\//, "", stem); sub(/\.jsonl$/, "", stem)
        seed = stem; sub(/.*_s/, "", seed); sub(/_s[0-9]+$/, "", stem)
        printf "%s %s %s %s %s %s %s %s %s\n", stem, seed, jget(a, "l_sr"), jget(b, "l_sr"),
            jget(b, "rel_err"), jget(b, "r2"), jget(b, "rms"), jget(b, "acc"), jget(a, "rms")
    }
    FNR == 1 { if (prev != "") out(prev, first, last); prev = FILENAME; first = $0 }
    { last = $0 }
    END { if (prev != "") out(prev, first, last) }' "$@"
}

table_paper() {
    d="$OUT/paper"
    ls "$d"/*.jsonl >/dev/null 2>&1 || { say "(paper: no results in $d)"; return; }
    paper_summary "$d"/*.jsonl > "$d/summary.txt"
    md ""
    md "### Paper reproductions: the vanilla quine (N = 20,100)"
    md ""
    md "L_SR after training, mean over seeds ($PAPER_SEEDS) and each seed's value; rel_err and R^2 are"
    md "means. Unit projection: coordinate projection N(0, 1); small: --coord-scale 0.1."
    md ""
    awk "$AWKLIB"'
    { k = $1; n[k]++; l0[k, n[k]] = $3; l[k, n[k]] = $4; re[k, n[k]] = $5; r2[k, n[k]] = $6
      rms[k, n[k]] = $7; rms0[k] = $9 }
    function cell(k, init,    i, a, b, c, m, vals, bad, x) {
        if (!(k in n)) return "not run"
        bad = 0; vals = ""
        for (i = 1; i <= n[k]; i++) {
            x = init ? l0[k, i] : l[k, i]
            if (!finite(x)) bad++
            a[i] = x; b[i] = re[k, i]; c[i] = r2[k, i]; m[i] = rms[k, i]
            vals = vals (i > 1 ? ", " : "") (finite(x) ? g3(x) : "NaN")
        }
        if (bad == n[k]) return "diverges: NaN (all seeds)"
        if (bad) return "diverges in " bad " of " n[k] " seeds (" vals ")"
        if (init) return "**" g3(mean(a, n[k])) "** (" vals ")"
        return "**" g3(mean(a, n[k])) "** (" vals "); rel_err " sprintf("%.3f", mean(b, n[k])) \
            ", R^2 " sprintf("%.3f", mean(c, n[k])) ", rms " sprintf("%.3f", mean(m, n[k]))
    }
    END {
        print "| what | options | paper | ours, unit projection | ours, small projection |"
        print "|---|---|---|---|---|"
        print "| initial L_SR | (epoch 0) | about 90 | " cell("v_adamax_cs1", 1) " | " cell("v_adamax_cs0.1", 1) " |"
        print "| Adamax, 30 epochs | `--epochs 30` | about 33 | " cell("v_adamax_cs1") " | " cell("v_adamax_cs0.1") " |"
        print "| 10 x (1 epoch + 1 regeneration) | `--epochs 10 --regen-every 1` | 0.86 | " cell("v_regen_cs1") " | " cell("v_regen_cs0.1") " |"
        print "| SGD, 30 epochs | `--optimizer sgd` | plateaus near 66 | " cell("v_sgd_cs1") " | " cell("v_sgd_cs0.1") " |"
        print "| SGD + momentum | `--optimizer momentum` | worse than Adamax | " cell("v_momentum_cs1") " | " cell("v_momentum_cs0.1") " |"
        print "| Adam | `--optimizer adam` | worse than Adamax | " cell("v_adam_cs1") " | " cell("v_adam_cs0.1") " |"
        print "| Adagrad | `--optimizer adagrad` | worse than Adamax | " cell("v_adagrad_cs1") " | " cell("v_adagrad_cs0.1") " |"
        print "| RMSprop | `--optimizer rmsprop` | explodes | " cell("v_rmsprop_cs1") " | " cell("v_rmsprop_cs0.1") " |"
    }' "$d/summary.txt" | mdcat
    md ""
    md "### Paper reproductions: the auxiliary quine (N = 21,100)"
    md ""
    md "Test accuracy after training, mean over seeds ($PAPER_SEEDS) and each seed's value; L_SR and R^2 are"
    md "means. MNIST: the $(commas $MNIST_TRAIN) / $(commas $MNIST_TEST) real digits of $MNIST; Fashion-MNIST: 60,000 / 10,000."
    md ""
    awk "$AWKLIB"'
    { k = $1; n[k]++; l[k, n[k]] = $4; r2[k, n[k]] = $6; acc[k, n[k]] = $8 }
    function cell(k, quine,    i, a, b, c, vals) {
        if (!(k in n)) return "not run"
        vals = ""
        for (i = 1; i <= n[k]; i++) {
            a[i] = acc[k, i] * 100; b[i] = l[k, i]; c[i] = r2[k, i]
            vals = vals (i > 1 ? ", " : "") sprintf("%.2f", a[i])
        }
        return "**" sprintf("%.2f%%", mean(a, n[k])) "** (" vals ")" \
            (quine ? "; L_SR " g3(mean(b, n[k])) ", R^2 " sprintf("%.3f", mean(c, n[k])) : "")
    }
    function row(what, opt, paper, k, quine) {
        print "| " what " | " opt " | " paper " | " cell("mnist_" k, quine) " | " cell("fashion_" k, quine) " |"
    }
    END {
        print "| what | options | paper (MNIST 60k/10k) | ours, MNIST '"$MNIST_SPLIT"' | ours, Fashion-MNIST 60k/10k |"
        print "|---|---|---|---|---|"
        row("quine, 30 epochs", "`--epochs 30`", "90.41%", "paper", 1)
        row("the same, small projection", "`--coord-scale 0.1`", "", "paper_cs0.1", 1)
        row("quine, 30 image epochs", "`--epoch-unit images`", "", "paperimg", 1)
        row("quine, the open settings found on 60k/10k: image epochs, T = 0.1, He init", "`--recipe paper60k`", "90.41%", "paper60k", 1)
        row("quine at T = 1", "`--temperature 1`", "", "paper_T1", 1)
        row("task alone, T = 0.01, same steps", "`--loss none --pairing separate --lambda 1`", "96.33%", "tasksteps", 0)
        row("task alone, T = 1, same steps", "the same + `--temperature 1`", "", "tasksteps_T1", 0)
        row("task alone, T = 1, 30 image epochs", "the same + `--epoch-unit images`", "", "taskT1", 0)
    }' "$d/summary.txt" | mdcat
}

# ---- 2. trade-off: lambda sweep ------------------------------------------------------------
# The scale-free recipe of quine-paper.md (loss 1 - R^2, Adam lr 1e-3, T = 1, He
# initialisation, images on rows of their own) on batches of 2,000 coordinates instead of
# all 21,100: a step is 14 times cheaper and, per step, nearly as good.
TO_RECIPE="--model aux --batch 2000 --images 100 --loss r2 --temperature 1 --pairing separate \
--optimizer adam --lr 0.001 --init he"
run_tradeoff() {
    d="$OUT/tradeoff"; rm -rf "$d"; mkdir -p "$d"
    r="$Q train $TO_RECIPE --data $MNIST --steps $TO_STEPS --report-every $((TO_STEPS / 5)) --json"
    {
        for seed in $TO_SEEDS; do
            for lam in $TO_LAMBDAS; do
                save=""; [ "$lam" = 1 ] && [ "$seed" = 1 ] && save="--save $d/l1_s1.genome"
                say "$r --seed $seed --lambda $lam $save > $d/l${lam}_s$seed.jsonl"
            done
            say "$r --seed $seed --loss none --lambda 1 > $d/task_s$seed.jsonl"
        done
    } > "$d/commands.txt"
    par < "$d/commands.txt"
}

table_tradeoff() {
    d="$OUT/tradeoff"
    ls "$d"/*.jsonl >/dev/null 2>&1 || { say "(tradeoff: no results in $d)"; return; }
    paper_summary "$d"/*.jsonl > "$d/summary.txt"
    steps=$(tail -n 1 "$(ls "$d"/*.jsonl | head -n 1)" | awk "$AWKLIB"'{ print jget($0, "steps") }')
    seeds=$(awk '{ print $2 }' "$d/summary.txt" | sort -un | tr '\n' ' ' | sed 's/ $//')
    md ""
    md "### Trade-off: replication against the task (single aux quines, $(commas $steps) steps, seeds $seeds)"
    md ""
    md "L = (1 - R^2 on 2,000 coordinates) + lambda * (mean cross-entropy on 100 images, T = 1);"
    md "mean ± standard deviation over the seeds. \"task alone\" has no replication term."
    md ""
    awk "$AWKLIB"'
    { k = $1; sub(/^l/, "", k); n[k]++; acc[k, n[k]] = $8 * 100; r2[k, n[k]] = $6
      re[k, n[k]] = $5; rms[k, n[k]] = $7; if (!(k in seen)) { seen[k] = 1; keys[++nk] = k } }
    END {
        # lambdas in numeric order, the task alone last
        for (i = 1; i <= nk; i++) for (j = i + 1; j <= nk; j++)
            if (keys[j] != "task" && (keys[i] == "task" || keys[j] + 0 < keys[i] + 0)) {
                t = keys[i]; keys[i] = keys[j]; keys[j] = t }
        print "| lambda | test accuracy (%) | R^2 of self-prediction | rel_err | weight rms |"
        print "|---|---|---|---|---|"
        for (i = 1; i <= nk; i++) {
            k = keys[i]; m = n[k]
            for (j = 1; j <= m; j++) { a[j] = acc[k, j]; b[j] = r2[k, j]; c[j] = re[k, j]; e[j] = rms[k, j] }
            printf "| %s | %.2f ± %.2f | %.3f ± %.3f | %.3f | %.3f |\n", \
                (k == "task" ? "task alone" : k), mean(a, m), sd(a, m), mean(b, m), sd(b, m), mean(c, m), mean(e, m)
            if (k == "task") printf "%s\n", mean(a, m) > "'"$OUT/figures/tradeoff_task.dat"'"
            else if (k + 0 > 0) printf "%s %.4f %.4f %.5f %.5f\n", k, mean(a, m), sd(a, m), mean(b, m), sd(b, m) > "'"$OUT/figures/tradeoff.dat"'"
        }
    }' "$d/summary.txt" | mdcat
    task=$(cat "$OUT/figures/tradeoff_task.dat" 2>/dev/null || echo NaN)
    # the log x axis a little wider than the lambdas, so the end points are not cut in half
    xr=$(awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 }
        END { printf "[%g:%g]", lo / 1.6, hi * 1.6 }' "$OUT/figures/tradeoff.dat")
    cat > "$OUT/figures/tradeoff.gp" <<EOF
set terminal pngcairo size 900,560 font 'Sans,11'
set output '$FIGA/tradeoff.png'
set title "Replication vs task: single aux quines, $(commas $steps) steps, mean and sd over seeds $seeds\n(loss (1 - R^2) + lambda x cross-entropy; scale-free recipe, MNIST $MNIST_SPLIT)\nlambda 0 has no place on the log axis: see the table"
set logscale x
set xrange $xr
set xlabel 'lambda, weight of the task loss (log scale)'
set ylabel 'test accuracy on the $(commas $MNIST_TEST) MNIST test digits (%)'
set y2label 'replication fidelity: R^2 of the self-prediction'
set ytics nomirror
set y2tics
set y2range [0:1]
set offsets 0, 0, 1, 1
set key outside below center horizontal maxcols 2 Left reverse samplen 3 width 1
set grid
plot '$OUTA/figures/tradeoff.dat' u 1:2:3 w yerrorlines lw 2 dt 1 pt 7 ps 1.2 lc rgb '#1f77b4' t 'test accuracy (left axis)', \\
     '' u 1:4:5 axes x1y2 w yerrorlines lw 2 dt 4 pt 5 ps 1.2 lc rgb '#d62728' t 'R^2 of self-prediction (right axis)', \\
     $task w l dt 2 lw 2 lc rgb '#636363' t 'task alone (no replication loss): test accuracy (left axis)'
EOF
    gnuplot "$OUT/figures/tradeoff.gp"
}

# ---- 3. evolution: self vs copy, fidelity under selection ---------------------------------
# One condition: every seed (and --sweep point) of it in one `quinesim run` on JOBS workers,
# a run directory per point under out-dir (seed-N, KEY=V,seed-N), their output in out-dir.log.
run_pop() { # scenario out-dir generations seeds options...
    s=$1; o=$2; g=$3; seeds=$4; shift 4
    "$Q" run "$s" --out "$o" --force --workers "$JOBS" --progress lines \
        --set run.generations="$g" --seeds "$(echo $seeds | tr ' ' ,)" "$@" > "$o.log" 2>&1 ||
        { echo "run.sh: quinesim run $s failed, see $o.log" >&2; tail -n 5 "$o.log" >&2; exit 1; }
    say "${o#"$OUT"/}: seeds $seeds done"
}

# Conditions: name and --set options (on evolve.ini or evolve-r2.ini).
run_evolve() {
    d="$OUT/evolve"; rm -rf "$d"; mkdir -p "$d"
    run_pop $HERE/evolve.ini "$d/self" $EV_GENS "$EV_SEEDS"
    run_pop $HERE/evolve.ini "$d/copy" $EV_GENS "$EV_SEEDS" --set replication.mode=copy
    run_pop $HERE/evolve.ini "$d/random" $EV_GENS "$EV_SEEDS" \
        --set selection.method=truncation --set selection.size=24
    run_pop $HERE/evolve.ini "$d/fidelity" $EV_GENS "$EV_SEEDS" --set selection.fitness=fidelity
    run_pop $HERE/evolve-r2.ini "$d/r2self" $R2_GENS "$R2_SEEDS"
    run_pop $HERE/evolve-r2.ini "$d/r2copy" $R2_GENS "$R2_SEEDS" --set replication.mode=copy
}

# Per generation: mean, min and max over runs (seeds) of a generations.csv column. With
# "1-" before the column's name: of 1 minus the column (for R^2: the fraction of the
# weight variance the self-prediction misses); a generation where a seed's value is not
# finite (a diverged population) is left out, as a gap.
seed_curves() { # column generations.csv...
    col=${1#1-}; inv=0; [ "$col" != "$1" ] && inv=1; shift
    awk -F, -v col="$col" -v inv="$inv" '
    FNR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
    { g = $1; v = $k; if (v == "") next
      if (g > maxg) maxg = g
      if (v ~ /inf|nan/ || v + 0 > 1e30 || v + 0 < -1e30) { bad[g] = 1; next }
      v = inv ? 1 - v : v + 0
      n[g]++; s[g] += v; if (!(g in lo) || v < lo[g]) lo[g] = v; if (!(g in hi) || v > hi[g]) hi[g] = v }
    END { for (g = 0; g <= maxg; g++)
              if ((g in n) && !(g in bad)) printf "%d %.6g %.6g %.6g\n", g, s[g] / n[g], lo[g], hi[g]
              else print "" }' "$@"
}
gen_curves() { seed_curves "$2" "$OUT"/evolve/$1/seed-*/generations.csv; } # condition column

# Mean over the last L generations of a run, then mean ± sd over seeds; "diverged" if
# any value is not finite or below -1e6.
last_stat() { # condition column L scale
    c=$1; col=$2; L=$3; sc=$4
    for f in "$OUT"/evolve/$c/seed-*/generations.csv; do
        awk -F, -v col="$col" -v L="$L" '
        FNR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
        { v[++n] = $k }
        END { s = 0; m = 0; bad = 0
              for (i = n - L + 1; i <= n; i++) { x = v[i]; if (x == "") continue
                  if (x ~ /inf|nan/ || x + 0 < -1e6) bad = 1; s += x; m++ }
              print bad || !m ? "bad" : s / m }' "$f"
    done | mean_sd "$sc"
}

# mean ± sd over the seeds of the numbers of standard input times $1 (100: a percentage,
# 2 decimals; else 3); "diverged" if a line says "bad", "-" if there is none.
mean_sd() {
    awk -v sc="$1" "$AWKLIB"'$1 == "bad" { bad++; next } { a[++n] = $1 * sc }
        END { if (bad) printf "diverged (%d of %d seeds)", bad, bad + n
              else if (!n) printf "-"
              else printf(sc == 100 ? "%.2f ± %.2f" : "%.3f ± %.3f", mean(a, n), sd(a, n)) }'
}

first_diverged() { # condition: first generation whose mean R^2 is -inf or below -1e6, per seed
    for f in "$OUT"/evolve/$1/seed-*/generations.csv; do
        awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "mean_r2") k = i; next }
            ($k ~ /inf|nan/ || $k + 0 < -1e6) { print $1; exit }' "$f"
    done | tr '\n' ' ' | sed 's/ $//'
}

heldout() { # condition: mean ± sd of the best organism's held-out test accuracy
    for f in "$OUT"/evolve/$1/seed-*/run.log; do
        sed -n 's/.*held-out test accuracy \([0-9.]*\).*/\1/p' "$f"
    done | mean_sd 100
}

# The seeds of the runs in folder $1 (seed-N, or KEY=V,seed-N with prefix $2), in order.
seeds_in() { ls -d "$1/${2:-}seed-"* 2>/dev/null | sed 's/.*seed-//' | sort -n | tr '\n' ' ' | sed 's/ $//'; }
seeds_of() { seeds_in "$OUT/evolve/$1"; }
gens_of() { tail -n 1 "$(ls "$OUT"/evolve/$1/seed-*/generations.csv | head -n 1)" | cut -d, -f1 | awk '{ print $1 + 1 }'; }

table_evolve() {
    d="$OUT/evolve"
    [ -f "$d/self/seed-1/generations.csv" ] || { say "(evolve: no results in $d)"; return; }
    G=$(gens_of self); S=$(seeds_of self); L=10; [ "$G" -lt 30 ] && L=5
    G2=$(gens_of r2self 2>/dev/null || echo 0); S2=$(seeds_of r2self); L2=5; [ "$G2" -lt 15 ] && L2=3
    md ""
    md "### Self vs copy inheritance (populations of 24 aux quines, elitism 0)"
    md ""
    md "Means over the last $L generations of $G (paper recipe, seeds $S) or the last $L2 of $G2"
    md "(scale-free recipe, seeds $S2), then mean ± sd over seeds. Accuracy on the 1,000-digit"
    md "fitness set (the first 1,000 test digits); held-out: the run's best organism on the"
    md "other $(commas $((MNIST_TEST - 1000))) test digits."
    md ""
    {
        say "| life recipe | replication | mean accuracy (%) | best accuracy (%) | held-out accuracy of the best (%) | self-prediction R^2 | replication R^2 of the births |"
        say "|---|---|---|---|---|---|---|"
        for c in self copy r2self r2copy; do
            case $c in
                self) r="paper (SSE, lambda 0.01)"; m=self; l=$L ;;
                copy) r="paper (SSE, lambda 0.01)"; m=copy; l=$L ;;
                r2self) r="scale-free (1 - R^2, lambda 1)"; m=self; l=$L2 ;;
                r2copy) r="scale-free (1 - R^2, lambda 1)"; m=copy; l=$L2 ;;
            esac
            [ -f "$d/$c/seed-1/generations.csv" ] || continue
            say "| $r | $m | $(last_stat $c mean_accuracy $l 100) | $(last_stat $c best_accuracy $l 100) | $(heldout $c) | $(last_stat $c mean_r2 $l 1) | $(last_stat $c mean_link_r2 $l 1) |"
        done
    } | mdcat
    dv=$(first_diverged r2self)
    [ -n "$dv" ] && md "" && md "Scale-free recipe, self mode: the population's mean R^2 is -inf or below -1e6 from generation $dv (one per seed)."
    md ""
    md "### Fidelity evolution: does selection on accuracy raise replication fidelity?"
    md ""
    md "The paper-recipe population in self mode under three selection regimes; last $L of $G"
    md "generations, mean ± sd over seeds $S. Generation 0 (founders after one life) for reference."
    md ""
    {
        say "| selection | mean accuracy (%) | self-prediction R^2 | replication R^2 of the births | generation 0: accuracy (%), R^2 |"
        say "|---|---|---|---|---|"
        for c in self random fidelity; do
            case $c in
                self) r="on accuracy (tournament of 3)" ;;
                random) r="none: random parents (truncation, size = population)" ;;
                fidelity) r="on fidelity (R^2, tournament of 3)" ;;
            esac
            g0=$(for f in "$d"/$c/seed-*/generations.csv; do sed -n 2p "$f"; done | awk -F, '
                { a += $6; r += $8; n++ } END { printf "%.2f, %.3f", 100 * a / n, r / n }')
            say "| $r | $(last_stat $c mean_accuracy $L 100) | $(last_stat $c mean_r2 $L 1) | $(last_stat $c mean_link_r2 $L 1) | $g0 |"
        done
    } | mdcat
    fig_evolve
}

# The scale-free self-mode runs diverge, each seed its own way: they are drawn one line
# per seed, not as a mean. Per generation: accuracy, 1 - R^2 (clipped to the plot's top,
# R2_CLIP) and, where the weights are no longer finite, the top of the plot (drawn as x).
R2_CLIP=1e8
seed_dat() { # generations.csv
    awk -F, -v clip=$R2_CLIP 'FNR == 1 { for (i = 1; i <= NF; i++) { if ($i == "mean_accuracy") a = i; if ($i == "mean_r2") r = i }; next }
        { v = $r; bad = (v == "" || v ~ /inf|nan/); m = bad ? "" : 1 - v
          if (!bad && m > clip) m = clip
          printf "%d %s %s %s\n", $1, $a, (m == "" ? "NaN" : m), (bad ? clip : "NaN") }' "$1"
}
self_seed_plot() { # column expression: gnuplot plot terms, one line (and x marks) per r2self seed
    cols="#e6550d #a63603 #fd8d3c #7f2704 #f16913"; dts="1 4 5 3 2"; i=0; sep=
    for sd in $(seeds_of r2self); do
        i=$((i + 1)); c=$(echo $cols | cut -d' ' -f$i); dtt=$(echo $dts | cut -d' ' -f$i)
        printf '%s     F.%s u 1:%s w lp lw 2 dt %s pt 7 ps 0.6 lc rgb "%s" t "self, seed %s"' "$sep" "'/evolve_r2self_s$sd.dat'" "$2" "$dtt" "$c" "$sd"
        sep=", \\
"
        [ "$1" = 3 ] && printf ', \\\n     F.%s u 1:4 w p pt 2 ps 1.2 lc rgb "%s" notitle' "'/evolve_r2self_s$sd.dat'" "$c"
    done
    echo
}

fig_evolve() {
    f="$OUT/figures"
    for c in self copy random fidelity r2self r2copy; do
        [ -f "$OUT/evolve/$c/seed-1/generations.csv" ] || continue
        gen_curves $c mean_accuracy > "$f/evolve_${c}_acc.dat"
        gen_curves $c 1-mean_r2 > "$f/evolve_${c}_r2.dat"
    done
    for sd in $(seeds_of r2self); do seed_dat "$OUT/evolve/r2self/seed-$sd/generations.csv" > "$f/evolve_r2self_s$sd.dat"; done
    S=$(seeds_of self); S2=$(seeds_of r2self); dv=$(first_diverged r2self)
    # a marker every tenth of the generations, so that lines that coincide stay apart
    PI=$(($(gens_of self) / 10)); [ $PI -ge 1 ] || PI=1
    PI2=$(($(gens_of r2self 2>/dev/null || echo 10) / 10)); [ $PI2 -ge 1 ] || PI2=1
    cat > "$f/inheritance.gp" <<EOF
set terminal pngcairo size 1150,820 font 'Sans,10'
set output '$FIGA/inheritance.png'
set multiplot layout 2,2 title "Self vs copy inheritance: 24 aux quines, elitism 0, selection on accuracy (lines: mean over seeds; bands: min to max)" font 'Sans,12'
set grid
set key bottom right
set xlabel 'generation'
F='$OUTA/figures'
set title "Paper recipe (SSE loss, lambda 0.01), seeds $S: accuracy on the fitness set"
set ylabel 'mean fitness-set accuracy of the population (%)'
set yrange [*:*]
plot F.'/evolve_copy_acc.dat' u 1:(100*\$3):(100*\$4) w filledcurves lc rgb '#c6dbef' notitle, \
     F.'/evolve_self_acc.dat' u 1:(100*\$3):(100*\$4) w filledcurves lc rgb '#fdd0a2' notitle, \
     F.'/evolve_copy_acc.dat' u 1:(100*\$2) w lp lw 2 dt 2 pt 5 ps 0.8 pi $PI lc rgb '#1f77b4' t 'copy: child = parent + mutation', \
     F.'/evolve_self_acc.dat' u 1:(100*\$2) w lp lw 2 dt 1 pt 7 ps 0.8 pi $PI lc rgb '#e6550d' t 'self: child = f(C) + mutation'
set title "Paper recipe, seeds $S: replication fidelity (lower = closer copy)"
set ylabel '1 - R^2 of the self-prediction (log scale)'
set logscale y
set yrange [*:*]; set autoscale yfix; set offsets 0, 0, graph 0.05, graph 0.05
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
set key top right
plot F.'/evolve_copy_r2.dat' u 1:3:4 w filledcurves lc rgb '#c6dbef' notitle, \
     F.'/evolve_self_r2.dat' u 1:3:4 w filledcurves lc rgb '#fdd0a2' notitle, \
     F.'/evolve_copy_r2.dat' u 1:2 w lp lw 2 dt 2 pt 5 ps 0.8 pi $PI lc rgb '#1f77b4' t 'copy', \
     F.'/evolve_self_r2.dat' u 1:2 w lp lw 2 dt 1 pt 7 ps 0.8 pi $PI lc rgb '#e6550d' t 'self'
unset logscale y; unset offsets; set autoscale y; set ytics auto
set key center right
set title "Scale-free recipe (1 - R^2 loss, lambda 1), seeds $S2: accuracy\n(copy: mean and band over seeds; self: each seed)"
set ylabel 'mean fitness-set accuracy of the population (%)'
set yrange [0:100]
plot F.'/evolve_r2copy_acc.dat' u 1:(100*\$3):(100*\$4) w filledcurves lc rgb '#c6dbef' notitle, \
     F.'/evolve_r2copy_acc.dat' u 1:(100*\$2) w lp lw 2 dt 2 pt 5 ps 0.8 pi $PI2 lc rgb '#1f77b4' t 'copy', \
$(self_seed_plot 2 '(100*$2)')
set title "Scale-free recipe, seeds $S2: replication fidelity (lower = closer copy)\n(self: each seed; x at the top: weights no longer finite)"
set ylabel '1 - R^2 of the self-prediction (log scale)'
set logscale y
set format y '10^{%T}'
set yrange [0.1:$R2_CLIP]
set key at graph 0.6, graph 0.8 right top
plot F.'/evolve_r2copy_r2.dat' u 1:3:4 w filledcurves lc rgb '#c6dbef' notitle, \
     F.'/evolve_r2copy_r2.dat' u 1:2 w lp lw 2 dt 2 pt 5 ps 0.8 pi $PI2 lc rgb '#1f77b4' t 'copy', \
$(self_seed_plot 3 '3')
unset multiplot
EOF
    cat > "$f/fidelity.gp" <<EOF
set terminal pngcairo size 1150,470 font 'Sans,10'
set output '$FIGA/fidelity.png'
set multiplot layout 1,2 title "Fidelity evolution: paper-recipe population in self mode, seeds $S (lines: mean over seeds; bands: min to max)" font 'Sans,12'
set grid
set xlabel 'generation'
F='$OUTA/figures'
set title 'replication fidelity (lower = closer copy)'
set ylabel '1 - R^2 of the self-prediction (log scale)'
set logscale y
set yrange [*:*]; set autoscale yfix; set offsets 0, 0, graph 0.05, graph 0.05
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
set key top right
plot F.'/evolve_random_r2.dat' u 1:3:4 w filledcurves lc rgb '#d9d9d9' notitle, \
     F.'/evolve_self_r2.dat' u 1:3:4 w filledcurves lc rgb '#fdd0a2' notitle, \
     F.'/evolve_fidelity_r2.dat' u 1:3:4 w filledcurves lc rgb '#c7e9c0' notitle, \
     F.'/evolve_random_r2.dat' u 1:2 w lp lw 2 dt 3 pt 4 ps 0.8 pi $PI lc rgb '#636363' t 'random parents (no selection)', \
     F.'/evolve_self_r2.dat' u 1:2 w lp lw 2 dt 1 pt 7 ps 0.8 pi $PI lc rgb '#e6550d' t 'selection on accuracy', \
     F.'/evolve_fidelity_r2.dat' u 1:2 w lp lw 2 dt 4 pt 9 ps 0.8 pi $PI lc rgb '#31a354' t 'selection on fidelity (R^2)'
unset logscale y; unset offsets; set autoscale y; set ytics auto
set title 'accuracy on the fitness set (the first 1,000 test digits)'
set ylabel 'mean fitness-set accuracy of the population (%)'
set yrange [*:*]
set key bottom right
plot F.'/evolve_random_acc.dat' u 1:(100*\$3):(100*\$4) w filledcurves lc rgb '#d9d9d9' notitle, \
     F.'/evolve_self_acc.dat' u 1:(100*\$3):(100*\$4) w filledcurves lc rgb '#fdd0a2' notitle, \
     F.'/evolve_fidelity_acc.dat' u 1:(100*\$3):(100*\$4) w filledcurves lc rgb '#c7e9c0' notitle, \
     F.'/evolve_random_acc.dat' u 1:(100*\$2) w lp lw 2 dt 3 pt 4 ps 0.8 pi $PI lc rgb '#636363' t 'random parents', \
     F.'/evolve_self_acc.dat' u 1:(100*\$2) w lp lw 2 dt 1 pt 7 ps 0.8 pi $PI lc rgb '#e6550d' t 'selection on accuracy', \
     F.'/evolve_fidelity_acc.dat' u 1:(100*\$2) w lp lw 2 dt 4 pt 9 ps 0.8 pi $PI lc rgb '#31a354' t 'selection on fidelity'
unset multiplot
EOF
    gnuplot "$f/inheritance.gp"
    gnuplot "$f/fidelity.gp"
}

# ---- 4. arena -------------------------------------------------------------------------------
# Every budget and seed in one run: arena/budget.flops_per_generation=B,seed-N/.
AK=budget.flops_per_generation
run_arena() {
    d="$OUT/arena"; rm -rf "$d"
    run_pop scenarios/arena.ini "$d" $AR_GENS "$AR_SEEDS" --sweep $AK=$(echo $AR_BUDGETS | tr ' ' ',')
    # The charts of `quinesim analyze` for the shipped arena (its budget, seed 1).
    "$Q" analyze "$d/$AK=2.75e10,seed-1" --plot "$d/plots-b2.75e10-seed-1" > "$d/b2.75e10-seed-1.analyze.txt"
}

# One line per run of budget $1: organisms of each species at the end, mean accuracy at the
# end, and each species' last generation alive if it went extinct (else -1).
arena_runs() {
    for f in "$OUT"/arena/$AK=$1,seed-*/generations.csv; do
        awk -F, '
        FNR == 1 { for (i = 1; i <= NF; i++) { if ($i == "n_small") a = i; if ($i == "n_medium") b = i
                       if ($i == "n_large") c = i; if ($i == "mean_accuracy") m = i }; next }
        { if ($a > 0) la = $1; if ($b > 0) lb = $1; if ($c > 0) lc = $1
          x = $a; y = $b; z = $c; acc = $m; g = $1 }
        END { print x, y, z, acc, (la < g ? la : -1), (lb < g ? lb : -1), (lc < g ? lc : -1) }' "$f"
    done
}

table_arena() {
    d="$OUT/arena"
    ls -d "$d"/$AK=*,seed-1 >/dev/null 2>&1 || { say "(arena: no results in $d)"; return; }
    G=$(tail -n 1 "$(ls "$d"/$AK=*,seed-1/generations.csv | head -n 1)" | cut -d, -f1 | awk '{ print $1 + 1 }')
    S=$(seeds_in "$d" $AK=0,)
    md ""
    md "### Arena: small (1,525 parameters), medium (5,550) and large (21,100) aux quines"
    md ""
    md "scenarios/arena.ini (max_params 300,000, 48 places, 400 steps a life, selection on"
    md "accuracy) under five FLOP budgets per generation, $G generations, seeds $S. Wins: the"
    md "seeds in which the species is the most abundant at the end; abundance and accuracy at"
    md "the end are means over seeds; extinct: in how many seeds, and the mean last generation alive."
    md ""
    {
        say "| budget (FLOPs / generation) | wins: small / medium / large | organisms at the end: small / medium / large | mean accuracy at the end (%) | small extinct | medium extinct | large extinct |"
        say "|---|---|---|---|---|---|---|"
        for b in $AR_BUDGETS; do
            ls "$d"/$AK=$b,seed-*/generations.csv >/dev/null 2>&1 || continue
            arena_runs "$b" | awk -v b="$b" '
                { n++; s[1] += $1; s[2] += $2; s[3] += $3; acc += $4
                  w = 1; if ($2 > $w) w = 2; if ($3 > $w) w = 3; win[w]++
                  for (k = 1; k <= 3; k++) if ($(4 + k) >= 0) { ext[k]++; eg[k] += $(4 + k) } }
                END { printf "| %s | %d / %d / %d | %.1f / %.1f / %.1f | %.2f |", (b == 0 ? "unlimited" : b),
                        win[1], win[2], win[3], s[1] / n, s[2] / n, s[3] / n, 100 * acc / n
                      for (k = 1; k <= 3; k++)
                          if (ext[k]) printf " %d of %d (g%.1f) |", ext[k], n, eg[k] / ext[k]
                          else printf " 0 of %d |", n
                      printf "\n" }'
        done
    } | mdcat
    fig_arena
}

# The arena figure: per budget, each species' abundance over generations (mean over the
# seeds, band from the lowest to the highest seed), and a last panel with every seed's
# abundance at the end, so that a split outcome (2.75e10) shows as one.
fig_arena() {
    f="$OUT/figures"; d="$OUT/arena"
    S=$(seeds_in "$d" $AK=0,)
    i=0; xt=""
    : > "$f/arena_end.dat"
    for b in $AR_BUDGETS; do
        ls "$d"/$AK=$b,seed-*/generations.csv >/dev/null 2>&1 || continue
        i=$((i + 1)); bn=$b; [ "$b" = 0 ] && bn=unlimited
        xt="$xt${xt:+, }'$bn' $i"
        for sp in small medium large; do
            seed_curves n_$sp "$d"/$AK=$b,seed-*/generations.csv > "$f/arena_b${b}_$sp.dat"
        done
        # budget index, organisms of each species at the end, the seed's index: one line per seed
        arena_runs "$b" | awk -v i=$i '{ print i, $1, $2, $3, NR - 1 }' >> "$f/arena_end.dat"
    done
    {
        say "set terminal pngcairo size 1300,780 font 'Sans,10'"
        say "set output '$FIGA/arena.png'"
        say "set termoption noenhanced"
        say "set multiplot layout 2,3 title \"Arena: organisms of each species alive under a FLOP budget per generation\\n(scenarios/arena.ini: max_params 300,000, at most 48 organisms; lines: mean over seeds $S; bands: lowest to highest seed)\" font 'Sans,11'"
        say "set style fill transparent solid 0.25 noborder"
        say "set xlabel 'generation'; set ylabel 'organisms alive'; set yrange [-1:50]; set grid"
        say "unset key"
        say "F='$OUTA/figures'"
        for b in $AR_BUDGETS; do
            [ -f "$f/arena_b${b}_small.dat" ] || continue
            bn=$b; [ "$b" = 0 ] && bn=unlimited
            say "set title 'budget $bn FLOPs per generation'"
            say "plot F.'/arena_b${b}_large.dat' u 1:3:4 w filledcurves lc rgb '#2ca02c' notitle, \\"
            say "     F.'/arena_b${b}_medium.dat' u 1:3:4 w filledcurves lc rgb '#1f77b4' notitle, \\"
            say "     F.'/arena_b${b}_small.dat' u 1:3:4 w filledcurves lc rgb '#ff7f0e' notitle, \\"
            say "     F.'/arena_b${b}_large.dat' u 1:2 w lp lw 2 dt 1 pt 9 pi 5 ps 0.9 lc rgb '#2ca02c' t 'large (H=100)', \\"
            say "     F.'/arena_b${b}_medium.dat' u 1:2 w lp lw 2 dt 2 pt 5 pi 5 ps 0.8 lc rgb '#1f77b4' t 'medium (H=50)', \\"
            say "     F.'/arena_b${b}_small.dat' u 1:2 w lp lw 2 dt 4 pt 7 pi 5 ps 0.8 lc rgb '#ff7f0e' t 'small (H=25)'"
        done
        say "set title 'at the end: each seed (one point per seed and species)'"
        say "set xlabel 'budget (FLOPs per generation)'; set xrange [0.5:$i.5]; set xtics ($xt)"
        say "unset grid; set grid ytics; set yrange [-1:64]; set ytics 0, 10, 50; set key top center samplen 3 box opaque"
        # species side by side within a budget, seeds side by side within a species' slot;
        # the key (the only one) names the species for every panel
        say "plot F.'/arena_end.dat' u (\$1 - 0.33 + 0.04 * \$5):2 w p pt 7 ps 0.9 lc rgb '#ff7f0e' notitle, \\"
        say "     '' u (\$1 - 0.08 + 0.04 * \$5):3 w p pt 5 ps 0.9 lc rgb '#1f77b4' notitle, \\"
        say "     '' u (\$1 + 0.17 + 0.04 * \$5):4 w p pt 9 ps 1.1 lc rgb '#2ca02c' notitle, \\"
        say "     keyentry w lp lw 2 dt 4 pt 7 lc rgb '#ff7f0e' t 'small (H=25, 1,525 parameters)', \\"
        say "     keyentry w lp lw 2 dt 2 pt 5 lc rgb '#1f77b4' t 'medium (H=50, 5,550)', \\"
        say "     keyentry w lp lw 2 dt 1 pt 9 lc rgb '#2ca02c' t 'large (H=100, 21,100)'"
        say "unset multiplot"
    } > "$f/arena.gp"
    gnuplot "$f/arena.gp"
}

# ---- 5. self-repair -------------------------------------------------------------------------
# name|genome|description
repair_genomes() {
    cat <<EOF
evolved-self|$OUT/evolve/self/seed-1/best.genome|evolved, paper recipe, self mode (best of seed 1)
evolved-copy|$OUT/evolve/copy/seed-1/best.genome|evolved, paper recipe, copy mode (best of seed 1)
evolved-r2copy|$OUT/evolve/r2copy/seed-1/best.genome|evolved, scale-free recipe, copy mode (best of seed 1)
trained-paper|$OUT/paper/mnist_paper_s1.genome|trained alone, paper recipe, 30 epochs (seed 1)
trained-r2|$OUT/tradeoff/l1_s1.genome|trained alone, scale-free recipe, lambda 1 (seed 1)
EOF
}

run_repair() {
    d="$OUT/repair"; rm -rf "$d"; mkdir -p "$d"
    repair_genomes | while IFS='|' read -r name g desc; do
        [ -f "$g" ] || { echo "run.sh: repair: $g missing (run ONLY='paper tradeoff evolve' first): $name skipped" >&2; continue; }
        for dmg in $DAMAGES; do for seed in $RP_SEEDS; do
            say "$Q repair $g --damage $dmg --cycles 3 --seed $seed --data $MNIST --json > $d/${name}_d${dmg}_full_s$seed.jsonl"
            say "$Q repair $g --damage $dmg --cycles 3 --only-damaged --seed $seed --data $MNIST --json > $d/${name}_d${dmg}_only_s$seed.jsonl"
        done; done
    done > "$d/commands.txt"
    par < "$d/commands.txt"
}

repair_summary() {
    d="$OUT/repair"
    # one line per file: name damage mode seed acc0 r2_0 offspring_r2 acc_damaged acc_c1 acc_c3 restored_c3 r2_c3
    for f in "$d"/*.jsonl; do
        b=${f##*/}; b=${b%.jsonl}
        awk "$AWKLIB"'
            { st = jget($0, "stage"); cy = jget($0, "cycle") }
            st == "\"original\"" { a0 = jget($0, "acc"); r0 = jget($0, "r2") }
            st == "\"offspring\"" { ro = jget($0, "r2") }
            st == "\"damaged\"" { ad = jget($0, "acc"); rd = jget($0, "r2") }
            st == "\"cycle\"" && cy == 1 { a1 = jget($0, "acc") }
            st == "\"cycle\"" && cy == 3 { a3 = jget($0, "acc"); rs = jget($0, "restored"); r3 = jget($0, "r2") }
            st == "\"verdict\"" { v = jget($0, "verdict"); good = jget($0, "good_replicator")
                vd = good == "true" ? "good-replicator" : v ~ /^"copies itself/ ? "copies-itself,-unstable" \
                    : v ~ /^"not a good enough/ ? "not-a-good-enough-replicator" : "other" }
            END { n = split(b, p, "_"); sub(/^d/, "", p[2]); sub(/^s/, "", p[4])
                  print p[1], p[2], p[3], p[4], a0, r0, ro, ad, a1, a3, rs, r3, vd }' b="$b" "$f"
    done > "$d/summary.txt"
}

table_repair() {
    d="$OUT/repair"
    ls "$d"/*.jsonl >/dev/null 2>&1 || { say "(repair: no results in $d)"; return; }
    S=$(ls "$d"/*.jsonl | sed 's/.*_s\([0-9]*\)\.jsonl/\1/' | sort -un | tr '\n' ' ' | sed 's/ $//')
    repair_summary
    md ""
    md "### Self-repair: damage a fraction of the weights (set to 0), regenerate 3 times"
    md ""
    md "Accuracy on the $(commas $MNIST_TEST) test digits of $MNIST, mean over damage seeds $S."
    md "\"only damaged\": each regeneration rewrites only the damaged weights with the network's"
    md "prediction of them; \"all\": theta <- f_theta(C), every weight (the paper's regeneration)."
    md "restored: the fraction of the damage's distance to the original genome undone after 3"
    md "cycles (1 = repaired exactly, 0 = no better than damaged, negative = further away)."
    md "recovered: the fraction of the accuracy lost to the damage that the repair won back."
    md "verdict: what \`quinesim repair\` concludes of the genome (the same for every damage)."
    md ""
    {
        say "| genome | R^2 of self-prediction | its offspring's R^2 | verdict | accuracy (%) | damage | damaged (%) | repaired: only damaged weights, 3 cycles (%) | recovered | restored | all weights, 1 cycle (%) |"
        say "|---|---|---|---|---|---|---|---|---|---|---|"
        repair_genomes | while IFS='|' read -r name g desc; do
            for dmg in $DAMAGES; do
                awk -v nm="$name" -v dm="$dmg" -v desc="$desc" '
                    $1 == nm && $2 == dm && $3 == "only" { n++; a0 = $5; r0 = $6; ro = $7; ad += $8; ao += $10; rs += $11
                        vd = $13; gsub(/-/, " ", vd) }
                    $1 == nm && $2 == dm && $3 == "full" { m++; a1 += $9; a3 += $10 }
                    END { if (!n) exit
                                                    ad /= n; ao /= n
                          printf "| %s | %s | %s | %s | %.2f | %d%% | %.2f | %.2f | %.2f | %.3g | %.2f |\n",
                              (dm == 0.1 ? desc : ""), (dm == 0.1 ? sprintf("%.3f", r0) : ""),
                              (dm == 0.1 ? sprintf("%.3g", ro) : ""), (dm == 0.1 ? vd : ""),
                              100 * a0, 100 * dm, 100 * ad, 100 * ao, (ao - ad) / (a0 - ad), rs / n,
                              100 * a1 / m }' "$d/summary.txt"
            done
        done
    } | mdcat
    fig_repair "$S"
}

# The repair figure: per genome (colour and marker), accuracy after damage (dashed, open
# rings) and after 3 regenerations of the damaged weights (solid, filled), mean over the
# damage seeds with bars from the lowest to the highest seed; genomes nudged apart on x.
fig_repair() { # damage seeds
    d="$OUT/repair"; f="$OUT/figures"; plots=""; k=0
    # name|colour|filled marker|open marker|label
    while IFS='|' read -r name lc pf po label; do
        grep -q "^$name " "$d/summary.txt" || continue
        # damage, damaged: mean min max, repaired: mean min max (0: the undamaged genome)
        awk -v nm="$name" '
            function upd(a, k, v) { if (!((k, "n") in a)) { a[k, "lo"] = v; a[k, "hi"] = v }
                a[k, "n"]++; a[k, "s"] += v; if (v < a[k, "lo"]) a[k, "lo"] = v; if (v > a[k, "hi"]) a[k, "hi"] = v }
            function st(a, k) { return sprintf("%.4f %.4f %.4f", 100 * a[k, "s"] / a[k, "n"], 100 * a[k, "lo"], 100 * a[k, "hi"]) }
            $1 == nm && $3 == "only" { a0 = $5; upd(dm, $2, $8); upd(rp, $2, $10); seen[$2] = 1 }
            END { printf "0 %.4f %.4f %.4f %.4f %.4f %.4f\n", 100 * a0, 100 * a0, 100 * a0, 100 * a0, 100 * a0, 100 * a0
                  for (x in seen) print x, st(dm, x), st(rp, x) }' "$d/summary.txt" | sort -n > "$f/repair_$name.dat"
        r2=$(awk -v nm="$name" '$1 == nm { printf "%.3f", $6; exit }' "$d/summary.txt")
        dx="(100*\$1 + $k * 0.5 - 1)"
        plots="$plots${plots:+, \\
     }F.'/repair_$name.dat' u $dx:5:6:7 w yerrorlines lw 2 dt 1 pt $pf ps 1.1 lc rgb '$lc' t '$label (R^2 $r2)', \\
     '' u $dx:2:3:4 w yerrorlines lw 1.5 dt 2 pt $po ps 1.9 lc rgb '$lc' notitle"
        k=$((k + 1))
    done <<GENOMES
evolved-self|#e6550d|7|6|evolved, self mode
evolved-copy|#1f77b4|5|4|evolved, copy mode
evolved-r2copy|#17becf|11|10|evolved, scale-free, copy mode
trained-paper|#756bb1|13|12|trained alone, paper recipe
trained-r2|#31a354|9|8|trained alone, scale-free, lambda 1
GENOMES
    cat > "$f/repair.gp" <<EOF
set terminal pngcairo size 1000,720 font 'Sans,11'
set output '$FIGA/repair.png'
set title "Self-repair: a fraction of the weights set to 0, then 3 regenerations of the damaged weights\n(mean over damage seeds $1; bars: lowest to highest seed; R^2: of the genome's self-prediction)" font 'Sans,11'
set xlabel 'weights damaged (%)'
set ylabel 'test accuracy on the $(commas $MNIST_TEST) MNIST test digits (%)'
set xrange [-2:53]; set yrange [0:100]
set xtics (0, 10, 30, 50)
set grid
set key outside below center vertical maxrows 4 Left reverse samplen 3 width 2
F='$OUTA/figures'
plot $plots, \\
     keyentry w lp lw 2 dt 1 pt 7 ps 1.1 lc rgb 'black' t 'solid, filled: repaired (3 cycles)', \\
     keyentry w lp lw 1.5 dt 2 pt 6 ps 1.9 lc rgb 'black' t 'dashed, ring: damaged'
EOF
    gnuplot "$f/repair.gp"
}

# ---- headline: one line per experiment, from the same raw results as the tables ------------
# mean of column $3 (scaled by $4) over the rows of summary file $1 whose first field is $2
col_mean() { awk -v k="$2" -v c="$3" -v sc="$4" '$1 == k && $c ~ /^[-+]?[0-9.]/ { s += $c * sc; n++ }
    END { if (n) printf(sc == 100 ? "%.2f" : "%.3g", s / n); else printf "?" }' "$1"; }

table_headline() {
    md ""
    md "## Headline"
    md ""
    md "| experiment | finding |"
    md "|---|---|"
    p="$OUT/paper/summary.txt"
    if [ -f "$p" ]; then
        md "| paper: aux quine, MNIST $MNIST_SPLIT | quine $(col_mean "$p" mnist_paper60k 8 100)% test accuracy with \`--recipe paper60k\` (R^2 of self-prediction $(col_mean "$p" mnist_paper60k 6 1); the paper's stated settings alone: $(col_mean "$p" mnist_paper 8 100)%) vs the same network on the task alone $(col_mean "$p" mnist_taskT1 8 100)% (30 image epochs, T = 1) (paper: 90.41% vs 96.33%) |"
        md "| paper: aux quine, Fashion-MNIST | quine $(col_mean "$p" fashion_paper60k 8 100)% with \`--recipe paper60k\` ($(col_mean "$p" fashion_paper 8 100)% with the stated settings) vs task alone $(col_mean "$p" fashion_taskT1 8 100)% |"
        md "| paper: vanilla, 10 x (epoch + regeneration), small projection | L_SR $(col_mean "$p" v_regen_cs0.1 4 1) (paper 0.86), but R^2 $(col_mean "$p" v_regen_cs0.1 6 1): the weights shrink (rms $(col_mean "$p" v_regen_cs0.1 9 1) -> $(col_mean "$p" v_regen_cs0.1 7 1)), nothing is copied |"
    fi
    t="$OUT/tradeoff/summary.txt"
    if [ -f "$t" ]; then
        hi=$(awk '$1 ~ /^l[0-9]/ { x = substr($1, 2) + 0; if (x > m) m = x } END { print m }' "$t")
        md "| trade-off over lambda (scale-free loss) | lambda 1: $(col_mean "$t" l1 8 100)% and R^2 $(col_mean "$t" l1 6 1); lambda 0: R^2 $(col_mean "$t" l0 6 1) at chance accuracy $(col_mean "$t" l0 8 100)%; lambda $hi: $(col_mean "$t" l$hi 8 100)%, R^2 $(col_mean "$t" l$hi 6 1); task alone $(col_mean "$t" task 8 100)% |"
    fi
    if [ -f "$OUT/evolve/self/seed-1/generations.csv" ]; then
        G=$(gens_of self); L=10; [ "$G" -lt 30 ] && L=5
        md "| self vs copy, paper recipe ($G generations) | mean accuracy: self $(last_stat self mean_accuracy $L 100)%, copy $(last_stat copy mean_accuracy $L 100)%; R^2 of self-prediction: self $(last_stat self mean_r2 $L 1), copy $(last_stat copy mean_r2 $L 1) |"
        if [ -f "$OUT/evolve/r2self/seed-1/generations.csv" ]; then
            G2=$(gens_of r2self); L2=5; [ "$G2" -lt 15 ] && L2=3
            md "| self vs copy, scale-free recipe ($G2 generations) | self: the weights diverge (generation $(first_diverged r2self), one per seed), mean accuracy $(last_stat r2self mean_accuracy $L2 100)%; copy: $(last_stat r2copy mean_accuracy $L2 100)%, R^2 $(last_stat r2copy mean_r2 $L2 1) |"
        fi
        md "| fidelity under selection (self mode, paper recipe) | R^2 of self-prediction: on accuracy $(last_stat self mean_r2 $L 1), random parents $(last_stat random mean_r2 $L 1), on fidelity $(last_stat fidelity mean_r2 $L 1) (generation 0: $(for f in "$OUT"/evolve/self/seed-*/generations.csv; do sed -n 2p "$f"; done | awk -F, '{ r += $8; n++ } END { printf "%.3f", r / n }')) |"
    fi
    if [ -d "$OUT/arena" ]; then
        w=$(for b in $AR_BUDGETS; do
            ls "$OUT"/arena/$AK=$b,seed-*/generations.csv >/dev/null 2>&1 || continue
            arena_runs "$b" | awk -v b="$b" '{ w = 1; if ($2 > $w) w = 2; if ($3 > $w) w = 3; win[w]++; n++ }
                END { split("small medium large", nm, " "); s = ""
                      for (k = 1; k <= 3; k++) if (win[k]) s = s (s == "" ? "" : " / ") nm[k] " " win[k] "/" n
                      printf "%s: %s; ", (b == 0 ? "unlimited" : b), s }'
        done | sed 's/; $//')
        md "| arena: who is most abundant at the end (seeds won), by FLOP budget | $w |"
    fi
    r="$OUT/repair/summary.txt"
    if [ -f "$r" ]; then
        md "| self-repair, 30% of the weights zeroed (only damaged weights regenerated, 3 cycles) | evolved self-mode quine: $(awk '$1 == "evolved-self" && $2 == 0.3 && $3 == "only" { a += $8; b += $10; n++ } END { if (n) printf "%.2f%% -> %.2f%%", 100 * a / n, 100 * b / n; else printf "?" }' "$r"); paper-recipe quine trained alone: $(awk '$1 == "trained-paper" && $2 == 0.3 && $3 == "only" { a += $8; b += $10; n++ } END { if (n) printf "%.2f%% -> %.2f%%", 100 * a / n, 100 * b / n; else printf "?" }' "$r"); regenerating all weights instead (1 cycle, any genome, any damage): at most $(awk '$3 == "full" { k = $1 " " $2; a[k] += $9; n[k]++ } END { for (k in a) if (a[k] / n[k] > m) m = a[k] / n[k]; printf "%.2f%%", 100 * m }' "$r") |"
    fi
}

# ---- 6. fertility: lineages of pure regeneration ---------------------------------------------
# Per seed: the paper's aux quine (30 epochs), the Newton copier (vanilla, 30 epochs, then
# 30 Levenberg-Marquardt steps) and the fertile recipe from it (`train --recipe fertile`,
# FE_EPOCHS x 2 second-order steps on copy, contraction and the child's copy, standardized
# offspring); each followed for 20 generations with `quinesim fertility` under both
# regenerations, intact and after 30% of its weights are zeroed. Then small populations
# (8 aux quines, FE_POP_GENS generations) with fertile lives (1 fertile step of 10 CG
# iterations after the 200 ordinary steps, standardized births, measure_child) in self and
# copy mode, and the same with the paper's life.
FE_POP="--set selection.population=8 --set species.aux.count=8 --set life.measure_child=1"
FE_FERTILE="--set life.recipe=fertile --set life.fertile_steps=1 --set life.fertile_cg=10 \
--set replication.regen=standardize"
run_fertility() {
    d="$OUT/fertility"; rm -rf "$d"; mkdir -p "$d"
    fe() { # genome regen: its lineage, intact and with 30% of the weights zeroed
        printf '%s' "$Q fertility $d/$1.genome --regen $2 --data $MNIST --damage 0.3 --json > $d/$1.$2.jsonl"
    }
    {
        for seed in $FE_SEEDS; do
            p=paper_s$seed; v=v30_s$seed; nw=newton_s$seed; f=fertile_s$seed
            say "$Q train --model aux --epochs 30 --seed $seed --data $MNIST --json --save $d/$p.genome > $d/$p.train.jsonl && $(fe $p plain) && $(fe $p standardize)"
            say "$Q train --model vanilla --epochs 30 --seed $seed --json --save $d/$v.genome > $d/$v.train.jsonl && $Q train --from $d/$v.genome --newton-only --epochs 30 --newton 1 --newton-cg 60 --json --save $d/$nw.genome > $d/$nw.train.jsonl && $(fe $nw plain) && $(fe $nw standardize) && $Q train --from $d/$nw.genome --recipe fertile --epochs $FE_EPOCHS --json --save $d/$f.genome > $d/$f.train.jsonl && $(fe $f plain) && $(fe $f standardize)"
        done
    } > "$d/commands.txt"
    par < "$d/commands.txt"
    say "fertility: lineages done"
    # fertility/{fertile,paper}-life/replication.mode=M,seed-N/
    # shellcheck disable=SC2086
    run_pop $HERE/evolve.ini "$d/fertile-life" $FE_POP_GENS "$FE_SEEDS" $FE_POP $FE_FERTILE \
        --sweep replication.mode=self,copy
    # shellcheck disable=SC2086
    run_pop $HERE/evolve.ini "$d/paper-life" $FE_POP_GENS "$FE_SEEDS" $FE_POP --sweep replication.mode=self,copy
}

# One line per lineage file and generation: genome seed regen lineage generation link_r2
# drift_r2 rms zero_quine acc (nan for vanilla); and "rho genome seed regen radius".
fertility_summary() {
    for f in "$OUT"/fertility/*_s*.*.jsonl; do
        case $f in *.train.jsonl) continue ;; esac
        b=${f##*/}; g=${b%%_s*}; rest=${b#*_s}; seed=${rest%%.*}; r=${rest#*.}; r=${r%.jsonl}
        awk "$AWKLIB"'
        /"spectral_radius"/ { print "rho", g, seed, r, jget($0, "spectral_radius"); next }
        { l = jget($0, "lineage"); gsub(/"/, "", l)
          z = jget($0, "zero_quine") == "true" ? 1 : 0
          print g, seed, r, l, jget($0, "generation"), jget($0, "link_r2"), jget($0, "drift_r2"),
              jget($0, "rms"), z, jget($0, "acc") }' g="$g" seed="$seed" r="$r" "$f"
    done > "$OUT/fertility/summary.txt"
}

# Per population run: the means of its last 3 generations (accuracy, self R^2, link R^2,
# the child's own copy R^2 from the eval records) and generation 0's accuracy, one line
# each; its accuracy curve to the second file.
fertility_pops() {
    d="$OUT/fertility"
    for r in "$d"/[fp]*-life/replication.mode=self,seed-* "$d"/[fp]*-life/replication.mode=copy,seed-*; do
        [ -f "$r/generations.csv" ] || continue
        c=${r#"$d"/}; c=$(echo "$c" | cut -c1)${r##*mode=}; c=${c%,seed-*}; seed=${r##*seed-}
        "$Q" inspect "$r/lineage.msgpack" | awk "$AWKLIB"'
            /"type":"eval"/ { g = jget($0, "generation") + 0; x = jget($0, "child_r2"); if (g > G) G = g
                if (finite(x)) { s[g] += x; n[g]++ } }
            END { t = 0; m = 0; for (g = G - 2; g <= G; g++) if (n[g]) { t += s[g] / n[g]; m++ }
                  if (m) printf "%s %s child %.6g\n", c, seed, t / m }' c="$c" seed="$seed"
        awk -F, -v c="$c" -v seed="$seed" -v curves="$d/pop_curves.txt" '
            FNR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
            ("island" in k) && $k["island"] != "all" { next }
            { n++; a[n] = $k["mean_accuracy"]; r[n] = $k["mean_r2"]; l[n] = $k["mean_link_r2"]; g[n] = $1 }
            END { A = 0; R = 0; L = 0; m = 0
                  for (i = n - 2; i <= n; i++) { A += a[i]; R += r[i]; if (l[i] != "") { L += l[i]; m++ } }
                  printf "%s %s acc %.6g\n%s %s r2 %.6g\n%s %s acc0 %.6g\n", c, seed, A / 3, c, seed, R / 3, c, seed, a[1]
                  if (m) printf "%s %s link %.6g\n", c, seed, L / m
                  for (i = 1; i <= n; i++) printf "%s %s %s %.6g\n", c, seed, g[i], 100 * a[i] >> curves }' \
            "$r/generations.csv"
    done
}

table_fertility() {
    d="$OUT/fertility"
    ls "$d"/*_s*.plain.jsonl >/dev/null 2>&1 || { say "(fertility: no results in $d)"; return; }
    fertility_summary
    S=$(awk '$1 != "rho" { print $2 }' "$d/summary.txt" | sort -un | tr '\n' ' ' | sed 's/ $//')
    md ""
    md "### Fertility: 20 generations of pure regeneration (seeds $S)"
    md ""
    md "theta_k+1 = T(theta_k), no training, no mutation (\`quinesim fertility --json\`). Link R^2 of"
    md "generation k: theta_k+1 against theta_k, mean over the seeds (each seed's value in brackets"
    md "for generation 1); \"gens >= 0.99\": generations from 0 on whose link R^2 is at least 0.99 in"
    md "every seed (the target is 20); zero: lineages collapsed to the zero quine (rms < 1e-3) by"
    md "generation 20, where R^2 is that of zeros against zeros; rho: spectral radius of dT/dtheta at"
    md "theta_0; accuracy: test, MNIST $MNIST_SPLIT."
    md ""
    awk "$AWKLIB"'
    $1 == "rho" { k = $2 " " $4; rho[k] += $5; nr[k]++; next }
    $4 == "intact" { k = $1 " " $3; key[k] = 1; g = $5
        L[k, g] += $6; n[k, g]++; v[k, g] = v[k, g] (v[k, g] == "" ? "" : ", ") g3($6)
        if (!finite($6) || $6 + 0 < 0.99) bad[k, g] = 1
        if (g == 20 && $9 == 1) zero[k]++
        if ($10 != "nan") { A[k, g] += $10; na[k, g]++ } }
    function cell(k, g) { return (k, g) in n ? g3(L[k, g] / n[k, g]) : "-" }
    function acc(k, g) { return na[k, g] ? sprintf("%.2f%%", 100 * A[k, g] / na[k, g]) : "-" }
    END {
        print "| genome | T | link R^2, generation 0 / 1 / 2 / 3 | generation 19 | gens >= 0.99 | zero | rho | accuracy, generation 0 -> 20 |"
        print "|---|---|---|---|---|---|---|---|"
        split("paper newton fertile", G, " "); split("plain standardize", R, " ")
        name["paper"] = "paper aux quine (30 epochs)"; name["newton"] = "Newton copier (vanilla)"
        name["fertile"] = "fertile recipe (from the Newton copier)"
        for (i = 1; i <= 3; i++) for (j = 1; j <= 2; j++) {
            k = G[i] " " R[j]; if (!(k in key)) continue
            ok = 0; while ((k, ok) in n && !((k, ok) in bad)) ok++
            printf "| %s | %s | %s / %s (%s) / %s / %s | %s | %d | %s | %s | %s -> %s |\n", name[G[i]], R[j],
                cell(k, 0), cell(k, 1), v[k, 1], cell(k, 2), cell(k, 3), cell(k, 19), ok,
                (k in zero ? zero[k] " of " n[k, 20] : "no"), (k in nr ? g3(rho[k] / nr[k]) : "-"), acc(k, 0), acc(k, 20)
            f = "'"$OUT"'/figures/fertility_" G[i] "_" R[j] ".dat"
            for (g = 0; g <= 20; g++) if ((k, g) in n) printf "%d %.6g\n", g, L[k, g] / n[k, g] > f
            if (G[i] == "paper") { f = "'"$OUT"'/figures/fertility_acc_" R[j] ".dat"
                for (g = 0; g <= 20; g++) if (na[k, g]) printf "%d %.6g\n", g, 100 * A[k, g] / na[k, g] > f }
        }
    }' "$d/summary.txt" | mdcat
    md ""
    md "### Self-repair over generations: 30% of the weights zeroed, then pure regeneration"
    md ""
    md "Drift R^2 of the damaged lineage against the UNDAMAGED genome (1 = repaired), mean over"
    md "seeds $S, each genome under its own T (plain; the fertile recipe's: standardized)."
    md ""
    awk "$AWKLIB"'
    function own(g, r) { return (g == "fertile") == (r == "standardize") }
    $1 != "rho" && $4 == "damaged" && own($1, $3) { k = $1; D[k, $5] += $7; n[k, $5]++; key[k] = 1
        if ($10 != "nan") { A[k, $5] += $10; na[k, $5]++ } }
    $1 != "rho" && $4 == "intact" && $5 == 0 && own($1, $3) && $10 != "nan" { A0[$1] += $10; n0[$1]++ }
    function c(k, g) { return (k, g) in n ? g3(D[k, g] / n[k, g]) : "-" }
    END {
        print "| genome | drift R^2 after damage (generation 0) | generation 1 | 2 | 3 | 20 | accuracy: intact / damaged / best regenerated (share of the loss won back) |"
        print "|---|---|---|---|---|---|---|"
        split("paper newton fertile", G, " ")
        for (i = 1; i <= 3; i++) { k = G[i]; if (!(k in key)) continue
            a = "- (vanilla)"
            if (na[k, 0] && n0[k]) { a0 = A0[k] / n0[k]; ad = A[k, 0] / na[k, 0]; best = -1
                for (g = 1; g <= 20; g++) if (na[k, g] && A[k, g] / na[k, g] > best) best = A[k, g] / na[k, g]
                a = sprintf("%.2f%% / %.2f%% / %.2f%% (%.0f%%)", 100 * a0, 100 * ad, 100 * best,
                    a0 > ad ? 100 * (best - ad) / (a0 - ad) : 0) }
            printf "| %s | %s | %s | %s | %s | %s | %s |\n", k, c(k, 0), c(k, 1), c(k, 2), c(k, 3), c(k, 20), a }
    }' "$d/summary.txt" | mdcat
    : > "$d/pop_curves.txt"
    fertility_pops > "$d/pop.txt"
    [ -s "$d/pop.txt" ] || return 0
    PG=$(awk '{ if ($3 + 1 > g) g = $3 + 1 } END { print g + 0 }' "$d/pop_curves.txt")
    md ""
    md "### Self vs copy inheritance with fertile lives (8 aux quines, $PG generations, seeds $S)"
    md ""
    md "Fertile life: the 200 ordinary steps of scenarios/experiments/evolve.ini, then 1 step of the"
    md "fertile recipe (10 CG iterations; \`[life] recipe = fertile\`), standardized offspring"
    md "(\`[replication] regen = standardize\`); paper life: the ordinary steps alone, plain offspring."
    md "Means over the last 3 generations, mean ± sd over the seeds; child R^2: each organism's"
    md "child's own copy (\`[life] measure_child\`, the eval records' child_r2)."
    md ""
    awk '
    { v[$1, $3, ++n[$1, $3]] = $4 }
    function ms(c, f, sc,    i, m, s, k) { k = n[c, f]; if (!k) return "-"; m = 0
        for (i = 1; i <= k; i++) m += v[c, f, i] * sc; m /= k; s = 0
        for (i = 1; i <= k; i++) s += (v[c, f, i] * sc - m) ^ 2; s = k > 1 ? sqrt(s / (k - 1)) : 0
        return sprintf(sc == 100 ? "%.2f ± %.2f" : "%.3f ± %.3f", m, s) }
    END {
        print "| life | inheritance | mean accuracy (%), generation 0 -> last 3 | self R^2 | link R^2 (child vs parent) | child R^2 (the child'"'"'s own copy) |"
        print "|---|---|---|---|---|---|"
        split("fself fcopy pself pcopy", C, " ")
        name["fself"] = "fertile | self"; name["fcopy"] = "fertile | copy"
        name["pself"] = "paper | self"; name["pcopy"] = "paper | copy"
        for (i = 1; i <= 4; i++) { c = C[i]; if (!n[c, "acc"]) continue
            printf "| %s | %s -> %s | %s | %s | %s |\n", name[c], ms(c, "acc0", 100), ms(c, "acc", 100),
                ms(c, "r2", 1), ms(c, "link", 1), ms(c, "child", 1) }
    }' "$d/pop.txt" | mdcat
    awk '{ k = $1 " " $3; s[k] += $4; n[k]++; if ($3 > G) G = $3 }
        function m(k) { return n[k] ? sprintf("%.4f", s[k] / n[k]) : "NaN" }
        END { for (g = 0; g <= G; g++) printf "%d %s %s %s %s\n", g, m("fself " g), m("fcopy " g), m("pself " g), m("pcopy " g) }' \
        "$d/pop_curves.txt" > "$OUT/figures/fertility_pop.dat"
    cat > "$OUT/figures/fertility.gp" <<EOF
set terminal pngcairo size 1000,1000 font 'Sans,11'
set output '$FIGA/fertility.png'
set multiplot layout 2,1 title "Fertility: 20 generations of pure regeneration, mean over seeds $S (MNIST $MNIST_SPLIT)"
set xlabel 'generation k (theta_{k+1} = T(theta_k): no training, no mutation)'
set ylabel 'link R^2 of theta_{k+1} vs theta_k'
set yrange [-1.6:1.05]
set xrange [0:20]
set key outside bottom center horizontal maxcols 2 box
set grid
set label 1 'below -1.6 (overflow): drawn at -1.6' at graph 0.02, graph 0.04
plot 0.99 w l dt 2 lc rgb '#555555' t 'target 0.99', \\
     '$OUTA/figures/fertility_paper_plain.dat' u 1:(\$2 < -1.6 ? -1.6 : \$2) w lp lw 2 pt 7 lc rgb '#1f77b4' t 'paper aux quine, plain T (R^2 1 from generation 5: the zero quine)', \\
     '$OUTA/figures/fertility_newton_plain.dat' u 1:(\$2 < -1.6 ? -1.6 : \$2) w lp lw 2 pt 5 lc rgb '#d62728' t 'Newton copier, plain T', \\
     '$OUTA/figures/fertility_fertile_standardize.dat' u 1:(\$2 < -1.6 ? -1.6 : \$2) w lp lw 2 pt 9 lc rgb '#2ca02c' t 'fertile recipe, standardized T (its own)', \\
     '$OUTA/figures/fertility_newton_standardize.dat' u 1:(\$2 < -1.6 ? -1.6 : \$2) w lp lw 1 pt 4 dt 3 lc rgb '#d62728' t 'Newton copier, standardized T'
unset label 1
set ylabel 'test accuracy of theta_k (%)'
set yrange [0:100]
set key outside bottom center horizontal maxcols 3 box
plot 90 w l dt 2 lc rgb '#555555' t 'target: 90% at generation 20', \\
     '$OUTA/figures/fertility_acc_plain.dat' u 1:2 w lp lw 2 pt 7 lc rgb '#1f77b4' t 'paper aux quine, plain T', \\
     '$OUTA/figures/fertility_acc_standardize.dat' u 1:2 w lp lw 2 pt 6 lc rgb '#9467bd' t 'paper aux quine, standardized T'
unset multiplot
EOF
    gnuplot "$OUT/figures/fertility.gp"
    cat > "$OUT/figures/fertility_pop.gp" <<EOF
set terminal pngcairo size 900,620 font 'Sans,11'
set output '$FIGA/fertility_pop.png'
set title "Self vs copy inheritance with fertile and paper lives: 8 aux quines, mean over seeds $S"
set xlabel 'generation'
set ylabel 'mean accuracy on the fitness set (%)'
set key outside below center horizontal maxcols 2 Left reverse samplen 3 width 1
set grid
plot '$OUTA/figures/fertility_pop.dat' u 1:2 w lp lw 2 pt 7 lc rgb '#2ca02c' t 'fertile life, self (standardized births)', \\
     '' u 1:3 w lp lw 2 pt 6 dt 2 lc rgb '#2ca02c' t 'fertile life, copy', \\
     '' u 1:4 w lp lw 2 pt 5 lc rgb '#1f77b4' t 'paper life, self', \\
     '' u 1:5 w lp lw 2 pt 4 dt 2 lc rgb '#1f77b4' t 'paper life, copy'
EOF
    gnuplot "$OUT/figures/fertility_pop.gp"
}

# ---- 8. islands ------------------------------------------------------------------------------
run_islands() { # islands/islands.count=C,seed-N/
    d="$OUT/islands"; rm -rf "$d"
    run_pop $HERE/islands.ini "$d" $IS_GENS "$IS_SEEDS" --sweep islands.count=$(echo $IS_COUNTS | tr ' ' ',')
}

table_islands() {
    d="$OUT/islands"
    ls "$d"/islands.count=1,seed-*/generations.csv >/dev/null 2>&1 || { say "(islands: no results in $d)"; return; }
    md ""
    md "### Islands: the same 48 aux quines as 1, 4 or 16 islands (elitism 0, ring, a migrant every 5 generations)"
    md ""
    md "Means over the last 5 generations (generations.csv's \`all\` rows), best accuracy of any"
    md "evaluation, the survivors' tree (\`analyze --json\`: phylogenetic diversity and mean pairwise"
    md "distance in generations, its roots: the founders whose lines are alive), and the"
    md "immigrants whose lines are alive at the end (of all immigrants); mean ± sd over seeds $IS_SEEDS."
    md ""
    # one line per run (its "run": the run's folder name), then one per group (ignored)
    "$Q" analyze "$d" --json > "$d/analyze.jsonl"
    /usr/bin/python3 - "$d" $IS_COUNTS <<'PY' | mdcat
import csv, glob, json, os, statistics as st, sys
d, counts = sys.argv[1], sys.argv[2:]
runs = {j["run"]: j for j in map(json.loads, open(d + "/analyze.jsonl")) if "group" not in j}
def ms(v, fmt):
    return (fmt % st.mean(v)) + (" ± " + fmt % st.stdev(v) if len(v) > 1 else "")
print("| islands | mean accuracy | mean self-prediction R^2 | best accuracy | survivors' PD | mean pairwise distance | founder lines alive | immigrants' lines alive |")
print("|---|---|---|---|---|---|---|---|")
for n in counts:
    acc, r2, best, pd, mpd, roots, imm = [], [], [], [], [], [], []
    for run in sorted(glob.glob(f"{d}/islands.count={n},seed-*/generations.csv")):
        rows = [r for r in csv.DictReader(open(run)) if r.get("island", "all") == "all"]
        acc.append(st.mean(float(r["mean_accuracy"]) for r in rows[-5:]))
        r2.append(st.mean(float(r["mean_r2"]) for r in rows[-5:]))
        best.append(max(float(r["best_accuracy"]) for r in rows))
        j = runs[os.path.basename(os.path.dirname(run))]
        sv = j["phylogeny"]["survivors"]
        pd.append(sv["phylogenetic_diversity"]); mpd.append(sv["mean_pairwise_distance"])
        roots.append(sv["roots"])
        if j.get("islands"):
            imm.append("%d of %d" % (sum(x["immigrant_lineages_alive"] for x in j["islands"]),
                                     sum(x["immigrants"] for x in j["islands"])))
    print(f"| {n} | {ms(acc, '%.4f')} | {ms(r2, '%.4f')} | {ms(best, '%.4f')} | {ms(pd, '%.1f')} "
          f"| {ms(mpd, '%.1f')} | {ms(roots, '%.1f')} | {', '.join(imm) if imm else '-'} |")
PY
}

# ---- main ------------------------------------------------------------------------------------
T0=$(now)
for e in $ONLY; do
    case " $ALL " in *" $e "*) ;; *) echo "run.sh: unknown experiment '$e' (known: $ALL)" >&2; exit 2 ;; esac
done
for e in $ALL; do
    case " $ONLY " in *" $e "*) ;; *) continue ;; esac
    say "== $e ($VARIANT) started $(date '+%F %T')"
    t=$(now)
    run_$e
    echo "$VARIANT $(($(now) - t)) $(date '+%F %T')" > "$OUT/$e.done"
    say "== $e done in $(($(now) - t)) s"
done
TOTAL=$(($(now) - T0))

: > "$RES"
md "# quinesim experiments: results"
md ""
md "Written by scenarios/experiments/run.sh (\`make experiments\`; QUICK=1 for the short variant)."
md "Machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr)."
md ""
md "| experiment | variant | wall time (s) | finished |"
md "|---|---|---|---|"
for e in $ALL; do
    if [ -f "$OUT/$e.done" ]; then set -- $(cat "$OUT/$e.done"); md "| $e | $1 | $2 | $3 $4 |"
    else md "| $e | not run | | |"; fi
done
md ""
if [ -n "$(echo $ONLY)" ]; then md "This invocation ran: $(echo $ONLY) ($VARIANT), $TOTAL s in all."
else md "This invocation ran no experiment: the tables and figures were remade from the raw results."; fi
for e in paper tradeoff; do
    ls "$OUT/$e"/*.jsonl >/dev/null 2>&1 && paper_summary "$OUT/$e"/*.jsonl > "$OUT/$e/summary.txt"
done
ls "$OUT"/repair/*.jsonl >/dev/null 2>&1 && repair_summary
table_headline
table_paper
table_tradeoff
table_evolve
table_arena
table_repair
table_fertility
table_islands
mv "$RES" "$OUT/RESULTS.md"
# The full variant's tables are committed next to its figures (scenarios/experiments/results.md quotes them).
[ -n "$DOC" ] && cp "$OUT/RESULTS.md" "$DOC"
say ""
say "tables: $OUT/RESULTS.md ${DOC:+and $DOC}; figures: $(ls "$FIG"/*.png | tr '\n' ' ')"
