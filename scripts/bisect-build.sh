#!/usr/bin/env bash
# Build every commit of a tree's series on its own: KVM (-Werror) and the
# KVM selftests each commit touches. Prints one line per commit:
#   STATUS<TAB>DESCRIPTION<TAB>FIRST ERROR
#   bisect-build.sh TREE
source "$(dirname "$0")/lib.sh"

tree=$1
base=$(baseline "$tree")
obj=$BUILD/obj-bisect
sto=$BUILD/bisect-selftests
mkdir -p "$obj"
[ -f "$BUILD/obj-modules/.config" ] || die "build the modules kernel first"
cp "$BUILD/obj-modules/.config" "$obj/.config"
kmake() { make -C "$tree" O="$obj" CC="ccache gcc" -j"$JOBS" "$@"; }

head=$(git -C "$tree" rev-parse HEAD)
i=0
for c in $(git -C "$tree" rev-list --reverse "$base..$head"); do
	i=$((i + 1))
	git -C "$tree" checkout -q "$c"
	subject=$(git -C "$tree" log -1 --format=%s "$c")
	log "bisect build $i: $subject"
	st=0 err=""
	if ! kmake -s olddefconfig >"$obj/bisect.log" 2>&1 ||
		! kmake arch/x86/kvm/ >>"$obj/bisect.log" 2>&1; then
		st=1 err=$(grep -m1 'error:' "$obj/bisect.log" || tail -n 1 "$obj/bisect.log")
	fi
	# The selftests this commit adds or changes.
	progs=""
	# (Library sources are not programs: a test built with them covers them.)
	for f in $(git -C "$tree" diff-tree --no-commit-id --name-only -r --diff-filter=AM "$c" -- \
		tools/testing/selftests/kvm/ | grep -v '/kvm/lib/' | grep '_test\.c$\|/x86_64/[^/]*\.c$'); do
		p=${f#tools/testing/selftests/kvm/}
		progs="$progs $sto/${p%.c}"
	done
	if [ $st = 0 ] && [ -n "$progs" ]; then
		# shellcheck disable=SC2086
		if ! make -C "$tree" O="$obj" -s headers_install INSTALL_HDR_PATH="$sto/hdr" \
			>>"$obj/bisect.log" 2>&1 ||
			! make -C "$tree/tools/testing/selftests/kvm" OUTPUT="$sto" \
			KHDR_INCLUDES="-isystem $sto/hdr/include" EXTRA_CFLAGS="-static -Werror" \
			-j"$JOBS" $progs >>"$obj/bisect.log" 2>&1; then
			st=1 err=$(grep -m1 'error:' "$obj/bisect.log" || tail -n 1 "$obj/bisect.log")
		fi
	fi
	printf '%s\tbuilds on its own: %04d %s%s\t%s\n' "$st" "$i" "$subject" \
		"${progs:+ (+ selftests)}" "$err"
done
git -C "$tree" checkout -q "$head"
