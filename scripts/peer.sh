#!/usr/bin/env bash
# The 'peer' group: upstream KVM selftests beyond the clock ones, on the
# series (every 'peer' run of scripts/runs.conf) and on the stock tree (the
# pinned source without the series) built with the same config, in
# build/stock/. Prints each test's result on every run and the difference:
# a test that fails with the series but not on stock is a regression; one
# that fails on stock too is a limit of QEMU/TCG, listed but not counted.
source "$(dirname "$0")/lib.sh"

[ -z "${KSRC:-}" ] || die "make peer compares the pinned tree with the series, not KSRC"
# A hang costs each of the boots its whole TEST_TIMEOUT: keep it shorter.
export TEST_TIMEOUT=${TEST_TIMEOUT:-300}
runs=$(bash "$REPO/scripts/runs.sh" names peer)
[ -n "$runs" ] || die "no 'peer' runs in scripts/runs.conf"
# Stock has no masterclock_sync_period: it gets the first peer run (period 0).
stock_run=${runs%%$'\n'*}

# The stock tree: the baseline commit as a worktree of build/linux. It sits
# at build/stock/linux, its build at build/stock/obj-*: the same paths
# relative to its build/ as the series tree's, so that ccache can reuse
# every object the series does not change.
stock=$BUILD/stock
base=$(baseline "$TREE")
if [ "$(git -C "$stock/linux" rev-parse HEAD 2>/dev/null)" != "$base" ] ||
	[ -n "$(git -C "$stock/linux" status --porcelain --untracked-files=no)" ]; then
	log "peer: stock tree at the baseline ${base:0:12}"
	git -C "$TREE" worktree remove --force "$stock/linux" 2>/dev/null || rm -rf "$stock/linux"
	git -C "$TREE" worktree prune
	mkdir -p "$stock"
	git -C "$TREE" worktree add -q --detach "$stock/linux" "$base"
fi

# One column per run: "run:result.tap" pairs, the series' first.
cols=""
for r in $runs; do cols="$cols $r:$BUILD/runs/$r/result.tap"; done
cols="$cols stock:$stock/runs/$stock_run/result.tap"
# No stale results from an earlier make peer when a build fails this time.
for c in $cols; do rm -f "${c#*:}"; done

log "peer: series: ${runs//$'\n'/ }"
# shellcheck disable=SC2086
bash "$REPO/scripts/run.sh" $runs >"$BUILD/peer-series.log" 2>&1 || true
log "peer: stock: $stock_run"
KSRC=$stock/linux BUILD=$stock bash "$REPO/scripts/run.sh" "$stock_run" \
	>"$BUILD/peer-stock.log" 2>&1 || true

for c in $cols; do [ -f "${c#*:}" ] || die "no results for ${c%%:*}; see $BUILD/peer-*.log"; done

# shellcheck disable=SC2046
awk -v cols="$cols" '
	# Per test and column: ok, skip or FAIL. A boot-level "not ok -" (kernel
	# report, QEMU timeout, unfinished run) is the row "(boot)".
	FNR == 1 { col++ }
	/^(not )?ok [0-9]+ / {
		t = $0; sub(/^(not )?ok [0-9]+ /, "", t); sub(/ .*/, "", t)
		add(t, /^not ok/ ? "FAIL" : / # SKIP/ ? "skip" : "ok")
	}
	/^not ok - / { add("(boot)", "FAIL") }
	function add(t, st) {
		if (!(t in seen)) { seen[t] = 1; order[++n] = t }
		res[t, col] = st
		# Why: what follows the "#" of a test, the description of a boot.
		why = $0
		if (t == "(boot)") sub(/^not ok - /, "", why)
		else sub(/^[^#]*# */, "", why)
		reason[t, col] = why
	}
	END {
		k = split(cols, c, " ")
		for (j = 1; j <= k; j++) { split(c[j], h, ":"); name[j] = h[1] }
		printf "# %-34s", "test"
		for (j = 1; j <= k; j++) printf " %-12s", name[j]
		print ""
		for (i = 1; i <= n; i++) {
			t = order[i]
			printf "# %-34s", t
			for (j = 1; j <= k; j++) printf " %-12s", (t, j) in res ? res[t, j] : t == "(boot)" ? "ok" : "-"
			print ""
		}
		# Column k is stock: what fails there too is the environment.
		for (i = 1; i <= n; i++) {
			t = order[i]
			if (res[t, k] == "FAIL") {
				for (j = 1; j < k && res[t, j] != "FAIL"; j++);
				if (j < k) env = env " " t
				else fixed = fixed " " t
				continue
			}
			for (j = 1; j < k; j++) if (res[t, j] == "FAIL")
				print "not ok " ++reg " - regression: " name[j] ": " t " # " reason[t, j]
		}
		print "# fail on stock too (environment limits, not counted):" (env == "" ? " none" : env)
		if (fixed != "") print "# fail on stock only:" fixed
		printf "%d tests, %d runs with the series, %d regressions against stock\n", n - ("(boot)" in seen), k - 1, reg
		exit reg > 0
	}' $(for c in $cols; do echo "${c#*:}"; done)
