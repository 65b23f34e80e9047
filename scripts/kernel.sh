#!/usr/bin/env bash
# Build the kernel of one variant out of tree: build/obj-VARIANT.
# Variants: modules (default), builtin, debug, trace (fragments in
# scripts/config).
source "$(dirname "$0")/lib.sh"

variant=${1:-modules}
obj=$BUILD/obj-$variant
frags=$REPO/scripts/config/base.config
case $variant in
modules) ;;
builtin | debug | trace) frags="$frags $REPO/scripts/config/$variant.config" ;;
*) die "unknown kernel variant '$variant' (modules, builtin, debug, trace)" ;;
esac

kmake() { make -C "$TREE" O="$obj" CC="ccache gcc" -j"$JOBS" "$@"; }

mkdir -p "$obj"
log "kernel ($variant): configure"
# Regenerate the config only when a fragment changed.
cat $frags | sha256sum >"$obj/.fragments.new"
if ! cmp -s "$obj/.fragments.new" "$obj/.fragments" || [ ! -f "$obj/.config" ]; then
	kmake -s tinyconfig >/dev/null
	# shellcheck disable=SC2086
	KCONFIG_CONFIG=$obj/.config "$TREE/scripts/kconfig/merge_config.sh" -m -O "$obj" \
		"$obj/.config" $frags >"$obj/merge.log"
	kmake -s olddefconfig >/dev/null
	# Every option the fragments set (the last fragment that names it wins)
	# must have survived: a dependency that silently turned one off would
	# give, say, a kernel without KVM or a debug kernel without KASAN.
	# shellcheck disable=SC2086
	sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=.*/\1 &/p; s/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1 &/p' $frags |
		awk '{ k = $1; sub(/^[^ ]* /, ""); want[k] = $0; if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
			END { for (i = 1; i <= n; i++) print want[order[i]] }' |
		while IFS= read -r want; do
			case $want in
			"# "*)
				opt=${want#\# } opt=${opt%% *}
				! grep -q "^$opt=" "$obj/.config" || die "$opt is set, but a fragment unsets it"
				;;
			*) grep -qx "$want" "$obj/.config" || die "$want from the fragments is not in .config" ;;
			esac
		done
	mv "$obj/.fragments.new" "$obj/.fragments"
fi

log "kernel ($variant): build"
if ! kmake bzImage modules >"$obj/build.log" 2>&1; then
	grep -m1 -B2 -A3 'error:\|Error [0-9]' "$obj/build.log" >&2 || tail -n 20 "$obj/build.log" >&2
	die "kernel build failed ($variant); full log: $obj/build.log"
fi
rm -rf "$obj/mod-install"
kmake -s INSTALL_MOD_PATH="$obj/mod-install" INSTALL_MOD_STRIP=1 modules_install >/dev/null
log "kernel ($variant): $(cat "$obj/include/config/kernel.release")"
