#!/usr/bin/env bash
# demo.sh runs the trimtab demo on the local control plane (make demo), or
# stops the demo's manager (demo.sh stop; make cluster-down does it too).
# Expects `make build cluster-up` to have run.
set -euo pipefail
cd "$(dirname "$0")/.."

. test/demo-common.sh
loadpid=$state/loadexporter.pid
loadaddr=127.0.0.1:$((19400 + off))
stop_manager() { stop_pid "$pidfile" bin/trimtab; }

if [ "${1:-}" = "stop" ]; then
	stop_manager
	stop_pid "$loadpid" bin/loadexporter
	stop_pid "$state/ec2fixture.pid" bin/ec2fixture # demo-placer.sh's
	exit 0
fi

step "a recorded load for the decisions: a service that opens at 09:00 every day, replayed so today's opening is 3 minutes from now, with its past week in Prometheus"
stop_pid "$loadpid" bin/loadexporter
./bin/loadexporter -trace api=test/testdata/traffic/synth-opening.csv -ramp-at 9h -lead 3m \
	-listen "$loadaddr" -backfill "$state/demo-history.om" >"$state/logs/loadexporter.log" 2>&1 &
echo $! >"$loadpid"
for _ in $(seq 1 50); do [ -s "$state/demo-history.om" ] && curl -fsS "http://$loadaddr/metrics" >/dev/null 2>&1 && break; sleep 0.2; done
./bin/localcluster -addons prometheus -prometheus-targets "http://$loadaddr/metrics" -prometheus-backfill "$state/demo-history.om" up | tail -2
prom=$(./bin/localcluster prometheus-url)
kubectl apply --server-side -f charts/trimtab/files/crds >/dev/null

step "starting the trimtab manager on 127.0.0.1:$port (log: $state/logs/manager.log)"
stop_manager
./bin/localcluster -url "https://127.0.0.1:$port" -cert-dir "$state/webhook-certs" webhooks
./bin/trimtab manager --kubeconfig "$state/kubeconfig" \
	--webhook-host 127.0.0.1 --webhook-port "$port" --cert-dir "$state/webhook-certs" \
	--metrics-bind-address "$metricsaddr" --metrics-secure=false --health-probe-bind-address "$probeaddr" \
	--prometheus-address "$prom" \
	>"$state/logs/manager.log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 1 100); do
	curl -fsS http://$probeaddr/readyz >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fsS http://$probeaddr/readyz >/dev/null || { echo "manager not ready; see $state/logs/manager.log"; tail -20 "$state/logs/manager.log"; exit 1; }
echo "manager ready (pid $(cat "$pidfile"))"

step "applying examples/: namespace shop (opted in), Deployment web (auto, on-demand base 2), Deployment reports (batch: base 0, every pod prefers spot)"
kubectl delete namespace shop --ignore-not-found --wait=true >/dev/null
kubectl apply -f examples/00-namespace.yaml
# The apiserver picks up new webhook configurations asynchronously: wait
# until it sends a Deployment with a bad policy to the validating webhook.
probe='{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"probe","namespace":"shop","annotations":{"trimtab.dev/class":"not-a-class"}},
 "spec":{"selector":{"matchLabels":{"app":"probe"}},"template":{"metadata":{"labels":{"app":"probe"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}'
for _ in $(seq 1 100); do
	echo "$probe" | kubectl create --dry-run=server -f - >/dev/null 2>&1 || break
	sleep 0.1
done
kubectl apply -f examples/web.yaml -f examples/batch.yaml

step "waiting for 10 pods to be scheduled and Running"
for _ in $(seq 1 150); do
	running=$(kubectl -n shop get pods --field-selector=status.phase=Running --no-headers 2>/dev/null | wc -l)
	[ "$running" -ge 10 ] && break
	sleep 0.2
done
kubectl -n shop get pods -o wide

step "placement: pods per capacity type and node (nodes chosen by kube-scheduler)"
kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.labels.karpenter\.sh/capacity-type}{"\n"}{end}' >"$state/node-capacity.txt"
kubectl -n shop get pods -o jsonpath='{range .items[*]}{.metadata.labels.app}{" "}{.spec.nodeName}{"\n"}{end}' |
	awk 'NR==FNR { cap[$1] = $2; next } { n[$1 " " cap[$2]]++; on[$1 " " cap[$2]] = on[$1 " " cap[$2]] " " $2 }
	     END { for (k in n) { split(k, a, " "); printf "%-10s %-10s %5d %s\n", a[1], a[2], n[k], on[k] } }' \
		"$state/node-capacity.txt" - | sort | { printf "%-10s %-10s %5s  %s\n" workload capacity pods nodes; cat; }

step "what trimtab decided, as kubectl describe pod and deployment show it"
pod=$(kubectl -n shop get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
kubectl -n shop describe pod "$pod" | sed -n -e '/^Name:/p' -e '/^Node:/p' -e '/^Annotations:/,/^Status:/{/^Status:/!p;}' -e '/^Events:/,$p' 
kubectl -n shop describe deployment web | sed -n -e '/^Events:/,$p'

step "a typo in a policy is refused with the key, the value and the accepted form"
kubectl -n shop annotate deployment web trimtab.dev/replicas=10..2 --overwrite 2>&1 | sed 's/^/  /' || true

step "decisions: Deployment api scales on trimtab_test_load, 50 a pod, in enforce mode"
kubectl apply -f examples/api.yaml
echo "watching kubectl get decisions -n shop for up to 6 minutes (the opening arrives at $(date -d @$(( $(date +%s) + 150 )) +%H:%M) or so):"
last=""
for _ in $(seq 1 72); do
	line=$(kubectl -n shop get decision api --no-headers 2>/dev/null || true)
	if [ -n "$line" ] && [ "$line" != "$last" ]; then
		printf '  %s  %s\n' "$(date +%H:%M:%S)" "$line"
		last=$line
	fi
	case "$line" in *proactive*) replicas=$(echo "$line" | awk '{print $5}'); [ "${replicas:-0}" -ge 10 ] && break ;; esac
	sleep 5
done
kubectl -n shop get decisions
kubectl -n shop describe decision api | sed -n -e '/^Status:/,$p'

cat <<MSG

Explore:
  export KUBECONFIG=$PWD/$state/kubeconfig
  $kubectl_bin get pods -n shop -L trimtab.dev/placement
  $kubectl_bin describe pod -n shop -l app=reports
  $kubectl_bin scale deployment web -n shop --replicas=12    # the base stays 2
  $kubectl_bin get decisions -n shop -w                       # the decision controller, every 15 s
  $kubectl_bin describe decision api -n shop                  # components, forecast, conditions, Events
  curl -s "$prom/api/v1/query?query=trimtab_test_load"        # the replayed load
  curl -s http://$metricsaddr/metrics | grep trimtab_      # admission metrics
  tail -f $state/logs/manager.log
Stop:
  make cluster-down      # stops the manager, the load exporter and the control plane (by PID)
MSG

# The placer (issue 16): a replayed price spike, in about two minutes
# (DEMO_PLACER=0 skips it). It restarts the manager with --placer on a
# sped-up clock, without Prometheus: the Decisions above then hold.
if [ "${DEMO_PLACER:-1}" = 1 ]; then
	step "the placer: make demo-placer"
	bash test/demo-placer.sh
fi
