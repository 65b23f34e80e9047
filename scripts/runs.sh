#!/usr/bin/env bash
# Query scripts/runs.conf.
#   runs.sh names GROUP     the runs of a group, in file order
#   runs.sh field RUN N     field N (1-5) of a run, trimmed
#   runs.sh tests RUN...    the test programs the runs need, one per line
source "$(dirname "$0")/lib.sh"

conf=$REPO/scripts/runs.conf
rows() { grep -v '^[[:space:]]*\(#\|$\)' "$conf"; }
trim() { sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }
field() {
	local line
	line=$(rows | awk -F'|' -v r="$1" '{ n = $1; gsub(/[ \t]/, "", n); if (n == r) print }')
	[ -n "$line" ] || die "no run '$1' in scripts/runs.conf"
	printf '%s\n' "$line" | cut -d'|' -f"$2" | trim
}

case ${1:-} in
names) rows | awk -F'|' -v g="$2" '{ gsub(/[ \t]/, "", $1); gsub(/[ \t]/, "", $4); if ($4 == g) print $1 }' ;;
field) field "$2" "$3" ;;
tests)
	shift
	for r in "$@"; do field "$r" 5 | tr ',' '\n' | trim | awk '{ print $1 }'; done | sort -u
	;;
*) die "usage: runs.sh names GROUP | field RUN N | tests RUN..." ;;
esac
