#!/usr/bin/env bash
# with-cluster.sh CMD... runs CMD with KUBEBUILDER_ASSETS pointing at the
# cached control-plane binaries (for envtest), and stops the local control
# plane afterwards if CMD's tests started it. A cluster that was already
# running (make cluster-up, make demo) is left running.
set -uo pipefail
cd "$(dirname "$0")/.."
lc=./bin/localcluster
was_up=0
$lc status >/dev/null 2>&1 && was_up=1
assets=$($lc assets) || exit 1
export KUBEBUILDER_ASSETS=$assets
start=$SECONDS
"$@"
rc=$?
echo "==> $* finished in $((SECONDS - start))s (exit $rc)"
if [ $was_up = 0 ] && [ -f .cluster/state.json ]; then
	$lc down
fi
exit $rc
