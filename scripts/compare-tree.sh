#!/usr/bin/env bash
# The comparison tree of 'make bench' and 'make realguest': the series'
# patches before the rate patch (CUT), plus the masterclock_sync_period patch
# of series v1, i.e. the series as it was before the refresh was made
# jump-free. It sits at build/compare/linux and builds in build/compare/:
# the same paths relative to its build dir as the series', so ccache reuses
# whatever the two trees share. Prints the tree's path.
source "$(dirname "$0")/lib.sh"

[ -z "${KSRC:-}" ] || die "the comparison tree is made from the pinned series, not KSRC"
CUT="KVM: x86: Run kvmclock at exactly the rate of the host's clock"
V1_REV=948c78cb9c89f930fee538bae815c714bc1d5870
V1_PARAM=patches/0002-KVM-x86-Add-masterclock_sync_period-for-a-periodic-m.patch

cmp=$BUILD/compare
base=$(baseline "$TREE")
cut=$(git -C "$TREE" log --format='%H %s' "$base..HEAD" | awk -v s="$CUT" 'substr($0, 42) == s { print $1 }')
[ -n "$cut" ] || die "no commit '$CUT' in $TREE"
want="$(git -C "$TREE" rev-parse "$cut^") $V1_REV"
if [ "$(cat "$cmp/tree.stamp" 2>/dev/null)" != "$want" ]; then
	log "comparison tree: series up to '$CUT' (excluded) + v1's period patch"
	git -C "$TREE" worktree remove --force "$cmp/linux" 2>/dev/null || rm -rf "$cmp/linux"
	git -C "$TREE" worktree prune
	mkdir -p "$cmp"
	git -C "$TREE" worktree add -q --detach "$cmp/linux" "$cut^"
	git -C "$REPO" show "$V1_REV:$V1_PARAM" >"$cmp/v1-param.patch" ||
		die "cannot read $V1_PARAM at $V1_REV (a shallow clone?)"
	git -C "$cmp/linux" am -q -3 --no-gpg-sign "$cmp/v1-param.patch" ||
		die "v1's period patch does not apply to the comparison tree"
	echo "$want" >"$cmp/tree.stamp"
fi
echo "$cmp/linux"
