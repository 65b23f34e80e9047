#!/usr/bin/env bash
# Everything that must pass, as one TAP document ending in "N passed, N failed":
# checkpatch, the series on the pristine tree, each patch building, the
# mirrors and patches/ agreeing with the series, MAINTAINERS-snippet, and
# every 'check' run of scripts/runs.conf under QEMU.
source "$(dirname "$0")/lib.sh"

[ -z "${KSRC:-}" ] || die "make check works on the pinned tree, not KSRC"
n=0 pass=0 fail=0 skip=0
tap() { # tap STATUS(0, 1 or skip) DESCRIPTION [DIAGNOSTICS...]
	local st=$1 desc=$2
	shift 2
	n=$((n + 1))
	if [ "$st" = skip ]; then
		echo "ok $n - $desc"
		skip=$((skip + 1))
	elif [ "$st" = 0 ]; then
		echo "ok $n - $desc"
		pass=$((pass + 1))
	else
		echo "not ok $n - $desc"
		fail=$((fail + 1))
		[ $# = 0 ] || printf '%s\n' "$@" | sed 's/^/#   /'
	fi
}
stage() { echo "# [$(($(date +%s) - HARNESS_T0))s] $*"; }
echo "TAP version 13"

# 1. The series applies with git am on the pristine pinned tree.
ct=$BUILD/check-tree
git -C "$TREE" worktree remove --force "$ct" 2>/dev/null || rm -rf "$ct"
git -C "$TREE" worktree prune
git -C "$TREE" worktree add -q --detach "$ct" "$(baseline "$TREE")"
applied=yes
for p in $(series_files); do
	if out=$(git -C "$ct" am -q --no-gpg-sign "$p" 2>&1); then
		tap 0 "applies: $(basename "$p")"
	else
		tap 1 "applies: $(basename "$p")" "$out"
		git -C "$ct" am --abort >/dev/null 2>&1 || true
		applied=""
		break
	fi
done

stage "series applied to the pristine tree"
# 2. checkpatch --strict on every patch; exceptions need a reason.
exc=$REPO/scripts/checkpatch.exceptions
for p in $(series_files); do
	ignore=$(awk -v f="$(basename "$p")" '!/^#/ && $1 == f { print $2 }' "$exc" | paste -sd, -)
	# Debian's python3 has python3-ply for spdxcheck.py; a python3 of
	# its own earlier in PATH (pyenv, venv) would not.
	out=$(PATH=/usr/bin:$PATH "$TREE/scripts/checkpatch.pl" --strict --quiet --no-summary --root="$TREE" \
		${ignore:+--ignore "$ignore"} "$p" 2>&1) && st=0 || st=1
	tap $st "checkpatch --strict: $(basename "$p")${ignore:+ (ignoring $ignore)}" "$out"
done

stage "checkpatch"
if [ -n "$applied" ]; then
	# 3. patches/ and the mirrors are what 'make export' makes of the series.
	tmp=$BUILD/check-export
	rm -rf "$tmp" && mkdir -p "$tmp/patches" "$tmp/mirrors"
	bash "$REPO/scripts/format-series.sh" "$ct" "$tmp/patches" "$REPO/patches/0000-cover-letter.patch"
	out=$(diff -r "$tmp/patches" "$REPO/patches" 2>&1) && st=0 || st=1
	tap $st "patches/ is what make export writes" "$(head -n 20 <<<"$out")"
	bash "$REPO/scripts/mirrors.sh" "$ct" "$tmp/mirrors"
	for d in $(mirror_dirs); do
		mkdir -p "$tmp/mirrors/$d"
		out=$(diff -r -x README.md "$tmp/mirrors/$d" "$REPO/$d" 2>&1) && st=0 || st=1
		tap $st "$d/ mirrors the series" "$(head -n 20 <<<"$out")"
	done
	out=$(grep -l '\*\*\* \(SUBJECT\|BLURB\) HERE' "$REPO"/patches/0000-*.patch 2>/dev/null) && st=1 || st=0
	tap $st "the cover letter has a subject and a blurb" "$out"

	stage "patches/ and mirrors compared"
	# 4. Every patch builds on its own (KVM with -Werror, and the selftests
	# the patch touches).  The patched kernel first: its .config is the one
	# each patch is built with.
	if bash "$REPO/scripts/kernel.sh" modules >"$BUILD/check-kernel.log" 2>&1; then
		bash "$REPO/scripts/bisect-build.sh" "$ct" >"$BUILD/bisect.tap" 2>"$BUILD/bisect.log" ||
			tap 1 "bisect builds ran" "$(tail -n 5 "$BUILD/bisect.log")"
		while IFS=$'\t' read -r st desc diag; do
			tap "$st" "$desc" "$diag"
		done <"$BUILD/bisect.tap"
	else
		tap 1 "the patched kernel builds" "$(tail -n 5 "$BUILD/check-kernel.log")"
	fi
fi

stage "each patch built"
# 5. The documentation the series touches builds with Sphinx without a
# warning that the pristine tree does not have.
pt=$BUILD/check-pristine
git -C "$TREE" worktree remove --force "$pt" 2>/dev/null || rm -rf "$pt"
git -C "$TREE" worktree prune
git -C "$TREE" worktree add -q --detach "$pt" "$(baseline "$TREE")"
out=$(bash "$REPO/scripts/docs-check.sh" "$ct" "$pt" 2>&1) && st=0 || st=1
tap $st "Sphinx (make htmldocs) of the touched documentation: no new warning" "$out"
git -C "$TREE" worktree remove --force "$pt"

stage "documentation built"

# 6. MAINTAINERS-snippet names files that exist in the patched tree.
missing=""
for f in $(sed -n 's/^F:[[:space:]]*//p' "$REPO/MAINTAINERS-snippet"); do
	# shellcheck disable=SC2086
	compgen -G "$ct/$f" >/dev/null || [ -e "$ct/$f" ] || missing="$missing $f"
done
tap "$([ -z "$missing" ] && echo 0 || echo 1)" "MAINTAINERS-snippet: every F: pattern matches" "missing:$missing"

git -C "$TREE" worktree remove --force "$ct"

# 7. Every 'check' run under QEMU.
stage "QEMU runs start"
# shellcheck disable=SC2046
bash "$REPO/scripts/run.sh" $(bash "$REPO/scripts/runs.sh" names check) >"$BUILD/check-runs.log" 2>&1 || true
while IFS= read -r line; do
	case $line in
	"ok "*"# SKIP"*) tap skip "${line#ok [0-9]* - }" ;;
	"ok "*) tap 0 "${line#ok [0-9]* - }" ;;
	"not ok "*) tap 1 "${line#not ok [0-9]* - }" ;;
	"#"*) echo "$line" ;;
	esac
done < <(sed -n '/^TAP version/,$p' "$BUILD/check-runs.log")
grep -q '^TAP version' "$BUILD/check-runs.log" ||
	tap 1 "QEMU runs" "$(tail -n 10 "$BUILD/check-runs.log")"

stage "done"
echo "1..$n"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
