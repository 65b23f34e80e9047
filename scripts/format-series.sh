#!/usr/bin/env bash
# git format-patch the tree's series into OUTDIR, with a cover letter whose
# subject and blurb come from COVER (an earlier cover letter), and a series
# file. Output depends only on the commits, so it can be compared.
#   format-series.sh TREE OUTDIR [COVER]
source "$(dirname "$0")/lib.sh"

tree=$1 outdir=$2 cover=${3:-}
base=$(baseline "$tree")
mkdir -p "$outdir"
: >"$outdir/series"
[ "$(git -C "$tree" rev-list --count "$base"..HEAD)" -gt 0 ] || exit 0

# Hunk headers name C functions as in a kernel git tree, whose .gitattributes
# (untracked in the pinned source's baseline commit, so missing from other
# worktrees) sets diff=cpp: the same for every worktree of the tree.
common=$(cd "$tree" && cd "$(git rev-parse --git-common-dir)" && pwd)
grep -qxF '*.[ch] diff=cpp' "$common/info/attributes" 2>/dev/null ||
	{ mkdir -p "$common/info" && echo '*.[ch] diff=cpp' >>"$common/info/attributes"; }

git -C "$tree" -c core.abbrev=12 format-patch -q --zero-commit --no-signature --cover-letter \
	--base="$base" -o "$outdir" "$base"..HEAD
(cd "$outdir" && ls [0-9][0-9][0-9][0-9]-*.patch | grep -v '^0000-') >"$outdir/series"

new=$outdir/0000-cover-letter.patch
# The cover letter is dated like the newest patch, not "now".
date=$(git -C "$tree" log -1 --format=%aD HEAD)
sed -i "s/^Date: .*/Date: $date/" "$new"
if [ -f "$cover" ]; then
	subject=$(sed -n '/^Subject: \[PATCH[^]]*\] /{s///p;q}' "$cover")
	# The blurb: from after the headers to the shortlog ("Name (N):").
	awk 'body && /^[^ ].* \([0-9]+\):$/ { exit } body { print } /^$/ && !body { body = 1 }' \
		"$cover" >"$outdir/blurb"
	awk -v s="$subject" -v bf="$outdir/blurb" '
		/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, s) }
		/^\*\*\* BLURB HERE \*\*\*$/ { while ((getline l < bf) > 0) print l; skip = 1; next }
		skip && /^$/ { skip = 0; next }
		{ skip = 0; print }' "$new" >"$new.tmp"
	mv "$new.tmp" "$new"
	rm -f "$outdir/blurb"
fi
