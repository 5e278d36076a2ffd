#!/usr/bin/env bash
# demo-placer.sh shows the placer (make demo-placer, and the end of make
# demo): a recorded spot price spike replayed 480 times faster than the
# wall clock (an hour in 7.5 s) by the EC2-protocol fixture, a manager with
# --placer on the same sped-up clock, and a batch Deployment moved off spot
# ahead of the spike (the forecaster's crossing forecast, before the price
# first rises above on-demand) and back after it, with timestamps (wall
# and trace), Events and kubectl get decisions. Expects bin/trimtab,
# bin/ec2fixture and bin/localcluster; stop with make cluster-down.
set -euo pipefail
cd "$(dirname "$0")/.."

. test/demo-common.sh
fixpid=$state/ec2fixture.pid
ec2addr=127.0.0.1:$((19470 + off))
speed=480
trace_start=2015-06-12T16:30:00Z
prices=test/testdata/prices/c3.xlarge-2015-06-05-to-13.csv.gz
# The first price above on-demand after the start: the crossing the move
# out should come before.
crossing=$(zcat "$prices" | awk -F, -v s="$(date -u -d "$trace_start" '+%Y-%m-%d %H:%M:%S')" 'NR > 1 && $1 >= s && $6 > $7 { print $1; exit }')
crossing_s=$(date -d "$crossing" +%s)

./bin/localcluster up | tail -1
kubectl apply --server-side -f charts/trimtab/files/crds >/dev/null
kubectl apply -f examples/00-namespace.yaml >/dev/null
kubectl -n shop delete deployment/etl pdb/etl decision/etl --ignore-not-found --wait=true >/dev/null

# One origin for both clocks: at wall time origin both read origin, and
# from then on run $speed times faster; the fixture plays $trace_start at
# origin. 8 s from now leaves time to start both and the workload.
origin_s=$(($(date +%s) + 8))
origin=$(date -u -d "@$origin_s" +%Y-%m-%dT%H:%M:%SZ)
trace_s() { echo $(($(date -d "$trace_start" +%s) + ($(date +%s%N) / 1000000 - origin_s * 1000) * speed / 1000)); }
trace_now() { date -u -d "@$(trace_s)" '+%m-%d %H:%M'; }

step "the EC2-protocol fixture on $ec2addr: c3.xlarge us-east-1a, 2015-06-05 to 13, trace $trace_start at $(date -d "@$origin_s" +%H:%M:%S), ${speed}x; the price first rises above on-demand at ${crossing%+*}"
stop_pid "$fixpid" bin/ec2fixture
./bin/ec2fixture --listen "$ec2addr" --prices "$prices" \
	--clock-speed "$speed" --clock-origin "$origin" --trace-start "$trace_start" --report 15s \
	>"$state/logs/ec2fixture.log" 2>&1 &
echo $! >"$fixpid"

step "the manager with --placer on the same clock (--clock-speed $speed --clock-origin $origin; log: $state/logs/manager.log)"
stop_pid "$pidfile" bin/trimtab
./bin/localcluster -url "https://127.0.0.1:$port" -cert-dir "$state/webhook-certs" webhooks
# Any static key: the fixture checks the SigV4 scope, not the secret. The
# replay has prices only (one instance type, no score schedule), so spot
# placement scores are off: on, they would switch themselves off with a
# PlacementScoresOff Warning (EC2 needs three types for a score).
AWS_ACCESS_KEY_ID=AKIDDEMO AWS_SECRET_ACCESS_KEY=demo POD_NAMESPACE=shop \
	./bin/trimtab manager --kubeconfig "$state/kubeconfig" \
	--webhook-host 127.0.0.1 --webhook-port "$port" --cert-dir "$state/webhook-certs" \
	--metrics-bind-address "$metricsaddr" --metrics-secure=false --health-probe-bind-address "$probeaddr" \
	--requests=false --placer --ec2-region us-east-1 --ec2-endpoint "http://$ec2addr" \
	--clock-speed "$speed" --clock-origin "$origin" \
	--price-period 5m --placer-period 5m --decision-period 5m --placement-scores=false \
	>"$state/logs/manager.log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 1 100); do curl -fsS "http://$probeaddr/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://$probeaddr/readyz" >/dev/null || { echo "manager not ready; see $state/logs/manager.log"; tail -20 "$state/logs/manager.log"; exit 1; }
probe='{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"probe","namespace":"shop","annotations":{"trimtab.dev/class":"not-a-class"}},
 "spec":{"selector":{"matchLabels":{"app":"probe"}},"template":{"metadata":{"labels":{"app":"probe"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}'
for _ in $(seq 1 100); do
	echo "$probe" | kubectl create --dry-run=server -f - >/dev/null 2>&1 || break
	sleep 0.1
done

step "examples/placer.yaml: Deployment etl (batch, 4 pods, c3.xlarge in us-east-1a) and its PDB (one pod down at a time)"
kubectl apply -f examples/placer.yaml

step "watching: wall time, trace time, etl's Decision (capacity, placer), and where its pods run"
kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.labels.karpenter\.sh/capacity-type}{"\n"}{end}' >"$state/node-capacity.txt"
where() {
	kubectl -n shop get pods -l app=etl --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.spec.nodeName}{" "}{.metadata.deletionTimestamp}{"\n"}{end}' |
		awk 'NR==FNR { cap[$1] = $2; next } $2 == "" { n[cap[$1]]++ } END { printf "spot=%d on-demand=%d", n["spot"], n["on-demand"] }' "$state/node-capacity.txt" -
}
last="" went_out="" flipped="" first_left="" since="" deadline=$(($(date +%s) + 240))
while [ "$(date +%s)" -lt "$deadline" ]; do
	now_s=$(trace_s)
	d=$(kubectl -n shop get decision etl -o jsonpath='{.status.capacity.rest}|{.status.placement.summary}|{.status.placement.outlook.since}' 2>/dev/null || true)
	pods=$(where)
	rest=${d%%|*} summary=${d#*|}
	summary=${summary%|*}
	if [ "$rest" = on-demand ] && [ -z "$flipped" ]; then
		flipped=$now_s since=${d##*|}
	fi
	if [ -n "$flipped" ] && [ -z "$first_left" ] && [ "${pods%% *}" != spot=4 ]; then
		first_left=$now_s
	fi
	line="capacity $rest; placer: $summary; pods $pods"
	if [ "$line" != "$last" ]; then
		printf '  %s  trace %s  %s\n' "$(date +%H:%M:%S)" "$(date -u -d "@$now_s" '+%m-%d %H:%M')" "$line"
		last=$line
	fi
	case "$pods" in "spot=0 on-demand=4") went_out=1 ;; "spot=4 on-demand=0") [ -n "$went_out" ] && break ;; esac
	sleep 0.25
done
if [ -n "$flipped" ]; then
	# The outlook's since is on the manager's clock, which read $origin at
	# the trace's start.
	hm() { date -u -d "@$1" +%H:%M; }
	printf '\n  moved out %d min before the price crossed on-demand (trace %s):' $(((crossing_s - flipped) / 60)) "$(date -u -d "@$crossing_s" +%H:%M:%S)"
	[ -n "$since" ] && printf ' the market went off spot at %s,' "$(hm $(($(date -d "$trace_start" +%s) + $(date -d "$since" +%s) - origin_s)))"
	printf ' the capacity turned on-demand by %s' "$(hm "$flipped")"
	[ -n "$first_left" ] && printf ', the first pod left spot by %s (%d min before)' "$(hm "$first_left")" $(((crossing_s - first_left) / 60))
	printf '\n'
fi

step "kubectl get decisions -n shop"
kubectl -n shop get decisions
step "the placer's and the decision controller's Events on Decision etl"
uid=$(kubectl -n shop get decision etl -o jsonpath='{.metadata.uid}')
kubectl -n shop get events --field-selector "involvedObject.uid=$uid" \
	-o custom-columns=TIME:.eventTime,TYPE:.type,REASON:.reason,MESSAGE:.message --sort-by=.metadata.creationTimestamp | cut -c1-220
step "why a pod is where it is: the webhook's decision on one of etl's pods"
pod=$(kubectl -n shop get pods -l app=etl -o jsonpath='{.items[0].metadata.name}')
kubectl -n shop get pod "$pod" -o jsonpath='{.spec.nodeName}{": "}{.metadata.annotations.trimtab\.dev/decision}{"\n"}'
curl -s "http://$metricsaddr/metrics" | grep -E '^trimtab_placer_(evictions_total|moves_done_total|market_off_spot)' || true

cat <<MSG

Explore:
  export KUBECONFIG=$PWD/$state/kubeconfig
  $kubectl_bin describe decision etl -n shop     # the outlook, the plan, the moves and their Events
  tail -f $state/logs/ec2fixture.log              # the trace time now playing
  curl -s http://$metricsaddr/metrics | grep ^trimtab_placer   # the placer's metrics
The manager (pid $(cat "$pidfile"), log $state/logs/manager.log) and the fixture (pid $(cat "$fixpid"))
run on with the sped-up clock; to restart the manager, rerun its command line in test/demo-placer.sh.
Stop:
  make cluster-down
MSG
