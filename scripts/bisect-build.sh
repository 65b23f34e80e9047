#!/usr/bin/env bash
# Build every commit of a tree's series on its own: KVM (-Werror) for x86_64
# and i386 when the commit touches kernel code, and the KVM selftests each
# commit adds or changes. Prints one line per commit:
#   STATUS<TAB>DESCRIPTION<TAB>FIRST ERROR
#   bisect-build.sh TREE
source "$(dirname "$0")/lib.sh"

tree=$1
base=$(baseline "$tree")
obj=$BUILD/obj-bisect
obj32=$BUILD/obj-bisect-i386
sto=$BUILD/bisect-selftests
mkdir -p "$obj" "$obj32"
[ -f "$BUILD/obj-modules/.config" ] || die "build the modules kernel first"
cp "$BUILD/obj-modules/.config" "$obj/.config"
kmake() { make -C "$tree" O="$obj" CC="ccache gcc" -j"$JOBS" "$@"; }
kmake32() { make -C "$tree" O="$obj32" ARCH=i386 CC="ccache gcc" -j"$JOBS" "$@"; }
head=$(git -C "$tree" rev-parse HEAD)

# The i386 configuration: tinyconfig and scripts/config/i386.config, made
# once on the pristine tree (the series adds no option the fragment needs).
frag=$REPO/scripts/config/i386.config
if ! cmp -s "$frag" "$obj32/.fragment"; then
	git -C "$tree" checkout -q "$base"
	kmake32 -s tinyconfig >/dev/null
	KCONFIG_CONFIG=$obj32/.config "$tree/scripts/kconfig/merge_config.sh" -m -O "$obj32" \
		"$obj32/.config" "$frag" >"$obj32/merge.log"
	kmake32 -s olddefconfig >/dev/null
	grep -qx 'CONFIG_KVM=m' "$obj32/.config" || die "the i386 configuration has no KVM"
	cp "$frag" "$obj32/.fragment"
fi

i=0
for c in $(git -C "$tree" rev-list --reverse "$base..$head"); do
	i=$((i + 1))
	git -C "$tree" checkout -q "$c"
	subject=$(git -C "$tree" log -1 --format=%s "$c")
	log "bisect build $i: $subject"
	st=0 err="" built=""
	: >"$obj/bisect.log"
	# Kernel code: build KVM for both architectures.
	if [ -n "$(git -C "$tree" diff-tree --no-commit-id --name-only -r "$c" -- arch include virt)" ]; then
		built=" (x86_64, i386)"
		if ! kmake -s olddefconfig >>"$obj/bisect.log" 2>&1 ||
			! kmake arch/x86/kvm/ >>"$obj/bisect.log" 2>&1 ||
			! kmake32 -s olddefconfig >>"$obj/bisect.log" 2>&1 ||
			! kmake32 arch/x86/kvm/ >>"$obj/bisect.log" 2>&1; then
			st=1 err=$(grep -m1 'error:' "$obj/bisect.log" || tail -n 1 "$obj/bisect.log")
		fi
	fi
	# The selftests this commit adds or changes; if it changes the library,
	# every selftest the series has added or changed so far.
	progs="" range="$c^!"
	[ -z "$(git -C "$tree" diff-tree --no-commit-id --name-only -r "$c" -- \
		tools/testing/selftests/kvm/lib tools/testing/selftests/kvm/include)" ] || range="$base..$c"
	for f in $(git -C "$tree" diff --name-only --diff-filter=AM "$range" -- \
		tools/testing/selftests/kvm/ | grep -v '/kvm/lib/' | grep '_test\.c$\|/x86_64/[^/]*\.c$'); do
		p=${f#tools/testing/selftests/kvm/}
		progs="$progs $sto/${p%.c}"
	done
	if [ $st = 0 ] && [ -n "$progs" ]; then
		built="$built (+ selftests)"
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
		"${built:- (nothing to build)}" "$err"
done
git -C "$tree" checkout -q "$head"
