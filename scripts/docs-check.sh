#!/usr/bin/env bash
# Build the Documentation/ directories that a tree's series touches with
# Sphinx, as 'make htmldocs' does, on that tree and on the pristine one;
# print the warnings and errors that only the series' build has (the
# pristine tree has some of its own) and exit 1 if there are any.
#   docs-check.sh TREE PRISTINE_TREE
source "$(dirname "$0")/lib.sh"

tree=$1 pristine=$2
dirs=""
for f in $(git -C "$tree" diff --name-only "$(baseline "$tree")" HEAD -- 'Documentation/*.rst'); do
	d=${f#Documentation/}
	d2=$(cut -d/ -f1-2 <<<"$d")
	if [ -f "$tree/Documentation/$d2/index.rst" ]; then d=$d2; else d=${d%%/*}; fi
	case " $dirs " in *" $d "*) ;; *) dirs="$dirs $d" ;; esac
done
[ -n "$dirs" ] || exit 0

# sphinx-build, warnings of one tree with its path and line numbers removed
# (the series moves the pristine tree's own warnings down its files).
warnings() {
	local t=$1 out=$BUILD/docs-$2
	rm -rf "$out" "$out.done"
	# Sphinx runs quiet (-q): make's status says whether it finished.
	PATH=/usr/bin:$PATH make -C "$t" O="$out" SPHINXDIRS="${dirs# }" htmldocs \
		>"$out.log" 2>&1 && touch "$out.done"
	grep -E 'WARNING|ERROR|CRITICAL' "$out.log" | sed -E "s|$t/||g; s/\.rst:[0-9]+:/.rst:/" | sort
}
new=$(comm -13 <(warnings "$pristine" pristine) <(warnings "$tree" series))
[ -f "$BUILD/docs-series.done" ] ||
	new="sphinx did not finish; see $BUILD/docs-series.log"
[ -z "$new" ] || { echo "$new"; exit 1; }
