#!/usr/bin/env bash
# apt.sh installs the Debian packages the local tooling runs (today only
# prometheus, for package cluster's StartPrometheus), once:
#
#   bash test/cluster/tools/apt.sh prometheus
#
# A package whose binary is already on disk is skipped, so this is a no-op on
# a prepared machine. `apt-get update` runs only when apt knows no candidate
# for a requested package. Needs root (or sudo).
set -euo pipefail

# binary PACKAGE prints the file that proves PACKAGE is installed.
binary() {
	case $1 in
	prometheus) echo /usr/bin/prometheus ;;
	*) echo "apt.sh: unknown package $1 (accepted: prometheus)" >&2; return 2 ;;
	esac
}

[ $# -gt 0 ] || set -- prometheus

sudo=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "apt.sh: run as root (or install sudo)" >&2; exit 1; }
	sudo=(sudo)
fi

todo=()
for p in "$@"; do
	bin=$(binary "$p")
	if [ -x "$bin" ]; then
		echo "==> $p: already installed ($bin)"
	else
		todo+=("$p")
	fi
done
[ ${#todo[@]} -gt 0 ] || exit 0

for p in "${todo[@]}"; do
	# Capture first: grep -q exiting early would fail the pipe under pipefail.
	policy=$(apt-cache policy "$p" 2>/dev/null || true)
	if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
		echo "==> apt-get update (no candidate for $p yet)"
		"${sudo[@]}" apt-get update -q
		break
	fi
done

start=$SECONDS
echo "==> installing ${todo[*]} with apt-get (no recommends)"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${todo[@]}"
for p in "${todo[@]}"; do
	bin=$(binary "$p")
	[ -x "$bin" ] || { echo "apt.sh: $p installed but $bin is missing" >&2; exit 1; }
	echo "==> $p: installed ($bin, $("$bin" --version 2>&1 | head -1))"
done
echo "==> done in $((SECONDS - start))s"
