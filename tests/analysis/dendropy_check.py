"""The phylogenetic metrics of a Newick tree computed by DendroPy (Debian python3-dendropy),
an implementation independent of analysis/phylo.c, for tests/analysis/test_phylo.c.

usage: /usr/bin/python3 dendropy_check.py TREE.nwk PHYLOGENY.csv survivors|all

The taxa are the survivors (destruction_time "none" in the phylogeny CSV) or every
organism. As analysis/README.md defines the metrics: a taxon that is an internal node of
the tree gets a leaf of its own at distance 0, then unifurcations are suppressed for the
shape indices. Prints one JSON object."""

import csv
import json
import sys

import dendropy
from dendropy.calculate import treemeasure


def main():
    nwk, phylo_csv, mode = sys.argv[1:4]
    with open(phylo_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    taxa = {r["id"] for r in rows if mode == "all" or r["destruction_time"] == "none"}
    tree = dendropy.Tree.get(path=nwk, schema="newick", rooting="force-rooted",
                             suppress_internal_node_taxa=True, suppress_leaf_node_taxa=False)
    # Internal labels are node labels, leaf labels are taxa: give each node one name, the
    # organism id of its label org<ID>.
    for nd in tree.preorder_node_iter():
        label = nd.taxon.label if nd.taxon is not None else nd.label
        nd.name = label[3:] if label and label.startswith("org") else label
    pd = tree.length()
    internal_taxa = [nd for nd in tree.preorder_node_iter() if nd.child_nodes() and nd.name in taxa]
    for nd in internal_taxa:
        t = tree.taxon_namespace.require_taxon(label="org" + nd.name)
        leaf = nd.new_child(taxon=t, edge_length=0.0)
        leaf.name = nd.name
    leaves = {nd.name for nd in tree.leaf_node_iter()}
    assert leaves == taxa, "the tree's leaves are not the taxa: %d vs %d" % (len(leaves), len(taxa))
    out = {"taxa": len(taxa), "phylogenetic_diversity": pd}
    pdm = tree.phylogenetic_distance_matrix()
    out["mean_pairwise_distance"] = pdm.mean_pairwise_distance() if len(taxa) >= 2 else None
    tree.encode_bipartitions()  # mrca() would use the encoding read with the file
    mrca = tree.mrca(taxon_labels=sorted("org" + t for t in taxa))
    out["mrca"] = int(mrca.name) if mrca.name else None  # the unnamed root joins several roots
    tree.suppress_unifurcations()
    out["sackin"] = treemeasure.sackin_index(tree, normalize=False)
    try:
        out["colless"] = treemeasure.colless_tree_imbalance(tree, normalize=None)
    except TypeError as e:  # DendroPy's Colless takes strictly bifurcating trees only
        out["colless"] = None
        out["colless_skipped"] = str(e)
    out["polytomies"] = sum(1 for nd in tree.preorder_node_iter() if len(nd.child_nodes()) > 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
