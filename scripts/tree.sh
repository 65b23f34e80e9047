#!/usr/bin/env bash
# Make build/linux: the pinned Debian source as a baseline commit, with the
# series applied on top as commits. Idempotent: a tree already in sync with
# patches/ is left alone, so work committed there is never thrown away.
source "$(dirname "$0")/lib.sh"

if [ -n "${KSRC:-}" ]; then
	[ -f "$KSRC/arch/x86/kvm/x86.c" ] || die "KSRC=$KSRC is not a kernel tree"
	log "using KSRC=$KSRC as it is (apply the series there yourself: git am patches/*.patch)"
	exit 0
fi

tarball=/usr/src/$PIN_PKG.tar.xz
[ -f "$tarball" ] || die "$tarball is missing; run 'make deps' as root"
version=$(dpkg-query -W -f='${Version}' "$PIN_PKG")
[ "$version" = "$PIN_VERSION" ] ||
	log "WARNING: building on $PIN_PKG $version, not the pinned $PIN_VERSION"

stamp=$TREE/.git/kvmclock-series

make_baseline() {
	local new=$TREE.new

	log "unpacking $PIN_PKG $version into $TREE"
	rm -rf "$new"
	mkdir -p "$new"
	tar -xf "$tarball" -C "$new" --strip-components=1
	# Debian's .gitignore ignores everything at the top level (/*); drop
	# that block so the baseline holds the whole tree.
	sed -i '/^#$/{N;/\n# Debian packaging: ignore everything/{:l;N;/\n!\/debian\/$/!bl;d}}' \
		"$new/.gitignore"
	! grep -qx '/\*' "$new/.gitignore" || die "could not drop the /* block from Debian's .gitignore"
	git -C "$new" init -q -b baseline
	git -C "$new" add -A
	GIT_AUTHOR_NAME=$BASE_IDENT_NAME GIT_AUTHOR_EMAIL=$BASE_IDENT_EMAIL \
	GIT_COMMITTER_NAME=$BASE_IDENT_NAME GIT_COMMITTER_EMAIL=$BASE_IDENT_EMAIL \
	GIT_AUTHOR_DATE=$BASE_DATE GIT_COMMITTER_DATE=$BASE_DATE \
		git -C "$new" commit -q -m "$PIN_PKG $version" --no-gpg-sign
	echo "$version" >"$new/.git/kvmclock-baseline"
	git -C "$new" checkout -q -b kvmclock
	# Commits made in the tree carry the repo's configured identity.
	git -C "$new" config user.name "$(git -C "$REPO" config user.name)"
	git -C "$new" config user.email "$(git -C "$REPO" config user.email)"
	rm -rf "$TREE"
	mv "$new" "$TREE"
}

# Is the tree exactly as the last apply or export left it?
tree_untouched() {
	[ -f "$stamp" ] || return 1
	[ "$(sed -n 2p "$stamp")" = "$(git -C "$TREE" rev-parse HEAD)" ] &&
		[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]
}

apply_series() {
	local base out patch
	base=$(baseline "$TREE")
	git -C "$TREE" reset -q --hard "$base"
	rm -f "$stamp"
	for patch in $(series_files); do
		if ! out=$(git -C "$TREE" am -q --no-gpg-sign "$patch" 2>&1); then
			git -C "$TREE" am --abort >/dev/null 2>&1 || true
			git -C "$TREE" reset -q --hard "$base"
			grep -m3 'error:\|patch failed' <<<"$out" >&2 || true
			die "$(basename "$patch") does not apply to $PIN_PKG $version; tree reset to the baseline"
		fi
	done
	write_stamp
	log "applied $(series_files | wc -l) patches"
}

if [ ! -d "$TREE/.git" ] || [ "$(cat "$TREE/.git/kvmclock-baseline" 2>/dev/null)" != "$version" ]; then
	if [ -d "$TREE/.git" ] && ! tree_untouched; then
		die "$TREE has work that is not exported and must be rebuilt for $version: 'make export' or 'make reset-tree'"
	fi
	make_baseline
	apply_series
elif [ "$(sed -n 1p "$stamp" 2>/dev/null)" != "$(series_digest)" ]; then
	# patches/ changed since the tree was synced (a pull, a checkout).
	if [ -f "$stamp" ] && ! tree_untouched; then
		die "patches/ changed and $TREE has work that is not exported: 'make export' first, or 'make reset-tree' to drop it"
	fi
	apply_series
fi
