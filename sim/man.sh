#!/bin/sh
# man.sh BIN DOCDIR: writes the manual page quinesim(1) in roff on standard output, made
# from the program's own texts: `quinesim --help` is the description and each command's
# `--help` is a section of its own. The Makefile runs it at build time, so the page is
# always the reference of the binary it is installed with.
set -eu
bin=$1
docdir=${2:-/usr/local/share/doc/quinesim}

# Plain text -> roff inside .nf: backslashes, a leading '.' or "'", and '-' (so that an
# option copied from the page is a real hyphen-minus).
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" -e 's/-/\\-/g'; }
verbatim() { echo '.nf'; roff; echo '.fi'; }

version=$("$bin" --version | awk '{print $2}')
commands=$("$bin" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')

cat <<ROFF
.TH QUINESIM 1 "" "quinesim $version" "User Commands"
.SH NAME
quinesim \\- evolve populations of self\\-replicating neural networks (neural network quines)
.SH SYNOPSIS
.B quinesim
.I command
.RI [ options ]
.br
.B quinesim help
.I command
.br
.B quinesim
.RB [ \\-\\-help | \\-\\-version ]
.SH DESCRIPTION
ROFF
"$bin" --help | verbatim
echo '.SH COMMANDS'
printf '%s\n' 'Each section is the text printed by \fBquinesim\fR \fIcommand\fR \fB\-\-help\fR.'
for c in $commands; do
    echo ".SS \"quinesim $c\""
    "$bin" "$c" --help | verbatim
done
cat <<ROFF
.SH EXAMPLES
.TP
.B quinesim run scenarios/quickstart.ini \-\-seeds 1\-5
five replicates, one pool of workers: runs/quickstart/seed\-1 ... seed\-5, then a table
.TP
.B quinesim run s.ini \-\-seeds 1\-3 \-\-sweep life.steps=100,200 \-\-out sweep
a grid of 2 x 3 runs (sweep/life.steps=100,seed\-1, ...); \fBquinesim analyze sweep\fR
groups them by life.steps with mean \(+- sd; \fBquinesim run \-\-resume sweep\fR
continues the stopped ones
.SH EXIT STATUS
0 on success, 1 when a command fails (the message says why), 2 for a usage error;
a run stopped by SIGINT exits with 130 and by SIGTERM with 143, after writing its
last checkpoint (a set of runs: the worst of its runs').
.SH ENVIRONMENT
.TP
.B OPENBLAS_NUM_THREADS
BLAS threads; quinesim sets 1 unless it is set (parallelism comes from worker processes).
.SH FILES
.TP
.I $docdir
README.md, scenarios/README.md, analysis/README.md and sim/*.md: the scenario keys, the run directory's files, the analysis,
remote workers and the results, with the example scenarios.
.SH SEE ALSO
.BR gnuplot (1),
.BR dot (1)
ROFF
