#!/bin/sh
# Re-fetch the vendored uPlot from npm and check it: the package tarball against its
# pinned SHA-256, then the three files taken from it against SHA256SUMS (which a test
# also checks). uPlot is MIT-licensed (uPlot.LICENSE); it is inlined into every HTML
# report. To move to another version, change VERSION and TGZ_SHA256, run this with
# UPDATE=1, and commit the new files and SHA256SUMS.
#
# usage: sh analysis/report/vendor.sh        (from the repository root)
set -eu
VERSION=1.6.32
TGZ_SHA256=4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@$VERSION" >/dev/null)
echo "$TGZ_SHA256  $tmp/uplot-$VERSION.tgz" | sha256sum --check --strict --quiet
tar -xzf "$tmp/uplot-$VERSION.tgz" -C "$tmp"
if [ "${UPDATE:-}" = 1 ]; then
    cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" "$here/"
    cp "$tmp/package/LICENSE" "$here/uPlot.LICENSE"
    (cd "$here" && sha256sum uPlot.iife.min.js uPlot.min.css uPlot.LICENSE > SHA256SUMS)
fi
cmp "$tmp/package/dist/uPlot.iife.min.js" "$here/uPlot.iife.min.js"
cmp "$tmp/package/dist/uPlot.min.css" "$here/uPlot.min.css"
cmp "$tmp/package/LICENSE" "$here/uPlot.LICENSE"
(cd "$here" && sha256sum --check --strict --quiet SHA256SUMS)
echo "vendor: uPlot $VERSION from npm matches analysis/report/ and SHA256SUMS"
