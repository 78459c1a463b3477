"""Reads a run's files with the tools researchers use, each with its defaults, and checks
that every one sees the same organisms (tests/analysis/test_interop.c runs it with
Debian's /usr/bin/python3).

usage: interop.py PHYLOGENY.csv GENERATIONS.csv ALL.nwk SURVIVORS.nwk RUN_PHYLOGENY.csv
Prints one line per tool: "<tool> <count>" (for "alife": the organisms alive at the end, as
ALifeStdDev finds them); exits non-zero on the first disagreement."""
import ast
import math
import sys

import dendropy
import ete3
import pandas as pd
from Bio import Phylo

phylo_csv, gens_csv, all_nwk, surv_nwk, run_csv = sys.argv[1:6]
PREFIX = "org"


def ids_of(labels, what):
    labels = [x for x in labels if x]  # the unnamed root of a forest
    bad = [x for x in labels if not x.startswith(PREFIX) or not x[len(PREFIX):].isdigit()]
    assert not bad, f"{what}: labels that are no organism: {bad[:5]}"
    ids = [int(x[len(PREFIX):]) for x in labels]
    assert len(ids) == len(set(ids)), f"{what}: an organism twice"
    return set(ids)


p = pd.read_csv(phylo_csv)
g = pd.read_csv(gens_csv)
r = pd.read_csv(run_csv)
assert p["id"].is_unique, "phylogeny: ids repeat"
assert set(r["id"]) == set(p["id"]), "the run's phylogeny.csv and analyze's differ in ids"
assert len(g) == g["generation"].max() + 1, "generations: one row per generation"
assert g["births"].sum() == len(p), "generations' births add up to the phylogeny's rows"
everyone = set(p["id"])
dead = pd.to_numeric(p["destruction_time"], errors="coerce")
alive = set(p["id"][~dead.apply(math.isfinite)])
assert alive, "nobody alive at the end"
print("pandas", len(p))

# As the ALife standard's reference loader (ALifeStdDev) reads both phylogeny files:
# ancestor_list by ast.literal_eval, a root's list holding the special value 'none', and
# the extant taxa by destruction_time == "none" (its default not_destroyed_value).
for csv in (phylo_csv, run_csv):
    t = pd.read_csv(csv)
    anc = t["ancestor_list"].apply(ast.literal_eval)
    ids = set(t["id"])
    for i, a in zip(t["id"], anc):
        assert a == ["none"] or (len(a) == 1 and int(a[0]) in ids and int(a[0]) < i), \
            f"{csv}: organism {i}: ancestor_list {a}"
    assert list(t["id"]) == sorted(t["id"]), f"{csv}: rows not in id order"
    extant = set(t["id"][t["destruction_time"].astype(str) == "none"])
    assert extant == alive, f"{csv}: {len(extant)} extant taxa, {len(alive)} alive"
print("alife", len(alive))

# The survivors' tree holds every survivor and only organisms of the phylogeny.
for name, read in [
    ("biopython", lambda f: [c.name or "" for c in Phylo.read(f, "newick").find_clades()]),
    ("dendropy", lambda f: [n.taxon.label if n.taxon else (n.label or "")
                            for n in dendropy.Tree.get(path=f, schema="newick",
                                                       preserve_underscores=True)
                            .preorder_node_iter()]),
    ("ete3", lambda f: [n.name for n in ete3.Tree(f, format=1).traverse("preorder")]),
]:
    every = ids_of(read(all_nwk), f"{name}, --all")
    assert every == everyone, f"{name}: --all tree has {len(every)} organisms, " \
                              f"the phylogeny {len(everyone)}"
    surv = ids_of(read(surv_nwk), f"{name}, survivors")
    assert alive <= surv <= everyone, f"{name}: survivors' tree lacks survivors"
    print(name, len(every))
