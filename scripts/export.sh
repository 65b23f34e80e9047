#!/usr/bin/env bash
# Regenerate patches/ and the mirrors from the commits in build/linux.
# patches/0000-cover-letter.patch keeps its subject and blurb (edit them
# there); everything else in patches/ and the mirrors is generated.
source "$(dirname "$0")/lib.sh"

[ -z "${KSRC:-}" ] || die "export works on build/linux, not KSRC"
[ -d "$TREE/.git" ] || die "no $TREE: run 'make tree' first"
[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
	die "$TREE has uncommitted changes: commit them first"

tmp=$BUILD/export
rm -rf "$tmp" && mkdir -p "$tmp/patches" "$tmp/mirrors"
bash "$REPO/scripts/format-series.sh" "$TREE" "$tmp/patches" "$REPO/patches/0000-cover-letter.patch"
bash "$REPO/scripts/mirrors.sh" "$TREE" "$tmp/mirrors"

rm -f "$REPO"/patches/*.patch "$REPO/patches/series"
cp "$tmp"/patches/* "$REPO/patches/"
for d in $(mirror_dirs); do
	find "$REPO/$d" -mindepth 1 ! -name README.md -delete 2>/dev/null || true
	[ ! -d "$tmp/mirrors/$d" ] || cp -r "$tmp/mirrors/$d/." "$REPO/$d/"
done
write_stamp
log "exported $(grep -c . "$REPO/patches/series" || true) patches"
grep -q '\*\*\* \(SUBJECT\|BLURB\) HERE' "$REPO/patches/0000-cover-letter.patch" 2>/dev/null &&
	log "now write the subject and blurb in patches/0000-cover-letter.patch" || true
