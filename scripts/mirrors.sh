#!/usr/bin/env bash
# Write the mirrors of a tree's series into OUTDIR: every file the series
# adds under a mirrored kernel directory, in full; every file it modifies
# there, as <file>.diff (the series' whole change to it).
#   mirrors.sh TREE OUTDIR
source "$(dirname "$0")/lib.sh"

tree=$1 outdir=$2
base=$(baseline "$tree")
git -C "$tree" diff --name-status --no-renames "$base" HEAD | while read -r st path; do
	for m in $MIRRORS; do
		mdir=${m%%:*} kdir=${m#*:}
		case $path in "$kdir"/*) ;; *) continue ;; esac
		dst=$outdir/$mdir/${path#"$kdir"/}
		mkdir -p "$(dirname "$dst")"
		case $st in
		A) git -C "$tree" show "HEAD:$path" >"$dst" ;;
		M) git -C "$tree" -c core.abbrev=12 diff "$base" HEAD -- "$path" >"$dst.diff" ;;
		D) echo "deleted by the series" >"$dst.deleted" ;;
		esac
	done
done
