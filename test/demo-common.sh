# demo-common.sh is sourced by demo.sh and demo-placer.sh: the demo's state
# directory, its ports (shifted by TRIMTAB_PORT_OFFSET, as the cluster's are,
# so a second checkout's demo does not take another's ports), kubectl on the
# local control plane, and stopping only the processes the demo started.

state=.cluster
pidfile=$state/manager.pid
off=${TRIMTAB_PORT_OFFSET:-0}
port=$((19443 + off))
metricsaddr=127.0.0.1:$((18080 + off))
probeaddr=127.0.0.1:$((18081 + off))
kubectl_bin="$(bash test/cluster/tools/build.sh --print-dir kubernetes)/bin/kubectl"
kubectl() { HOME=$PWD/$state/home "$kubectl_bin" --kubeconfig "$state/kubeconfig" "$@"; }

# stop_pid FILE BINARY stops the process this script started, by the PID in
# FILE, after checking it still runs BINARY (a rebuilt binary shows as
# "BINARY (deleted)" until it restarts).
stop_pid() {
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in
	"$PWD/$2" | "$PWD/$2 (deleted)")
		kill "$pid" && echo "stopped the demo's $(basename "$2") (pid $pid)"
		while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
		;;
	esac
	rm -f "$1"
}
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
