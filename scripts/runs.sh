#!/usr/bin/env bash
# Query scripts/runs.conf.
#   runs.sh names GROUP     the runs of a group, in file order
#   runs.sh field RUN N     field N (1-5) of a run, trimmed; tests "= RUN2": RUN2's
#   runs.sh tests RUN...    the test programs the runs need, one per line
source "$(dirname "$0")/lib.sh"

conf=$REPO/scripts/runs.conf
# A line ending in a backslash goes on on the next one (long test lists).
rows() { sed -e :a -e '/\\$/{N;s/\\\n//;ba' -e '}' "$conf" | grep -v '^[[:space:]]*\(#\|$\)'; }
trim() { sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }
field() {
	local line
	line=$(rows | awk -F'|' -v r="$1" '{ n = $1; gsub(/[ \t]/, "", n); if (n == r) print }')
	[ -n "$line" ] || die "no run '$1' in scripts/runs.conf"
	line=$(printf '%s\n' "$line" | cut -d'|' -f"$2" | trim)
	# Tests "= RUN": the same tests as RUN (one list for several parameters).
	case $2:$line in 5:=*) field "$(echo "${line#=}" | trim)" 5 ;; *) echo "$line" ;; esac
}

case ${1:-} in
names) rows | awk -F'|' -v g="$2" '{ gsub(/[ \t]/, "", $1); gsub(/[ \t]/, "", $4); if ($4 == g) print $1 }' ;;
field) field "$2" "$3" ;;
tests)
	shift
	# A guest script whose header says "# needs: $1" (hvhost.sh) runs its
	# first argument as a selftest: that selftest is needed too.
	for r in "$@"; do field "$r" 5 | tr ',' '\n' | trim | while read -r prog arg1 _; do
		echo "$prog"
		if grep -qs '^# needs:.* \$1\( \|$\)' "$REPO/scripts/guest/$prog"; then echo "$arg1"; fi
	done; done | sort -u
	;;
*) die "usage: runs.sh names GROUP | field RUN N | tests RUN..." ;;
esac
