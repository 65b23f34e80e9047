#!/usr/bin/env bash
# Build the kernel of one variant out of tree: build/obj-VARIANT.
# Variants: modules (default), builtin, debug, trace, nohz (fragments in
# scripts/config).
source "$(dirname "$0")/lib.sh"

variant=${1:-modules}
obj=$BUILD/obj-$variant
frags=$REPO/scripts/config/base.config
case $variant in
modules) ;;
builtin | debug | trace | nohz) frags="$frags $REPO/scripts/config/$variant.config" ;;
*) die "unknown kernel variant '$variant' (modules, builtin, debug, trace, nohz)" ;;
esac

kmake() { make -C "$TREE" O="$obj" CC="ccache gcc" -j"$JOBS" "$@"; }
# Does the tree define the option?  A fragment may name options that only
# the series adds (its KUnit suite); a stock or comparison tree (make peer,
# make bench) builds without them.
defined() { grep -rqs --include='Kconfig*' "^[[:space:]]*\(menu\)\?config ${1#CONFIG_}\$" "$TREE"; }

mkdir -p "$obj"
log "kernel ($variant): configure"
# Regenerate the config only when a fragment changed.
cat $frags | sha256sum >"$obj/.fragments.new"
if ! cmp -s "$obj/.fragments.new" "$obj/.fragments" || [ ! -f "$obj/.config" ]; then
	kmake -s tinyconfig >/dev/null
	# shellcheck disable=SC2086
	KCONFIG_CONFIG=$obj/wanted.config "$TREE/scripts/kconfig/merge_config.sh" -m -O "$obj" \
		$frags >"$obj/merge.log"
	KCONFIG_CONFIG=$obj/.config "$TREE/scripts/kconfig/merge_config.sh" -m -O "$obj" \
		"$obj/.config" "$obj/wanted.config" >>"$obj/merge.log"
	kmake -s olddefconfig >/dev/null
	# Every option the fragments request (merge_config.sh: the last fragment
	# that names it wins) must have survived: a dependency that silently
	# turned one off would give, say, a kernel without KVM or a debug kernel
	# without KASAN.
	while IFS= read -r want; do
		case $want in
		"# CONFIG_"*" is not set")
			opt=${want#\# } opt=${opt%% *}
			! grep -q "^$opt=" "$obj/.config" || die "$opt is set, but the fragments unset it"
			;;
		CONFIG_*)
			grep -qx "$want" "$obj/.config" && continue
			defined "${want%%=*}" || { log "kernel ($variant): ${want%%=*} is not in this tree; skipped"; continue; }
			die "$want from the fragments is not in .config"
			;;
		esac
	done <"$obj/wanted.config"
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
