#!/usr/bin/env bash
# build.sh builds the binaries the local control plane runs from their Go
# modules, once, into a cache keyed by version:
#
#   $TRIMTAB_CACHE/kubernetes-v1.37.1/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#   $TRIMTAB_CACHE/etcd-v3.7.3/bin/{etcd,etcdctl}
#   $TRIMTAB_CACHE/kwok-v0.8.0/bin/kwok   (+ its stage configs in ../stages,
#                                          its usage Metric configs in ../metrics)
#   $TRIMTAB_CACHE/helm-v3.22.0/bin/helm
#   $TRIMTAB_CACHE/certmanager-v1.21.2/bin/{cert-manager-controller,cert-manager-cainjector}
#                                          (+ cert-manager's CRDs in ../crds)
#   $TRIMTAB_CACHE/controllergen-v0.23.0/bin/controller-gen
#   $TRIMTAB_CACHE/prometheusadapter-v0.12.0/bin/prometheus-adapter
#
# and, only when named (make lint builds them; make tools and make test
# do not need them):
#
#   $TRIMTAB_CACHE/staticcheck-v0.8.2/bin/staticcheck
#   $TRIMTAB_CACHE/actionlint-v1.7.12/bin/actionlint
#
# Each tool is pinned by the go.mod of its module under test/cluster/tools/.
# A component whose bin dir holds a .complete stamp is reused as is. Builds use
# a private GOCACHE that is deleted afterwards: the Kubernetes build cache grows
# to ~7 GB and is worth nothing once the binaries exist.
#
# Usage: build.sh [--print-dir COMPONENT] [COMPONENT...]   (default: all)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${TRIMTAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trimtab}
all=(kubernetes etcd kwok helm certmanager controllergen prometheusadapter)
lint=(staticcheck actionlint)

# version MODULE_DIR MODULE prints the version of MODULE that MODULE_DIR pins.
version() {
	(cd "$1" && go list -m -f '{{.Version}}' "$2")
}

# component_dir NAME prints the cache dir of component NAME.
component_dir() {
	case $1 in
	kubernetes) echo "$cache/kubernetes-$(version "$here/kubernetes" k8s.io/kubernetes)" ;;
	etcd) echo "$cache/etcd-$(version "$here/etcd" go.etcd.io/etcd/server/v3)" ;;
	kwok) echo "$cache/kwok-$(version "$here/kwok" sigs.k8s.io/kwok)" ;;
	helm) echo "$cache/helm-$(version "$here/helm" helm.sh/helm/v3)" ;;
	certmanager) echo "$cache/certmanager-$(version "$here/certmanager" github.com/cert-manager/cert-manager)" ;;
	controllergen) echo "$cache/controllergen-$(version "$here/controllergen" sigs.k8s.io/controller-tools)" ;;
	prometheusadapter) echo "$cache/prometheusadapter-$(version "$here/prometheusadapter" sigs.k8s.io/prometheus-adapter)" ;;
	staticcheck) echo "$cache/staticcheck-$(version "$here/staticcheck" honnef.co/go/tools)" ;;
	actionlint) echo "$cache/actionlint-$(version "$here/actionlint" github.com/rhysd/actionlint)" ;;
	*) echo "unknown component $1 (accepted: ${all[*]} ${lint[*]})" >&2; return 2 ;;
	esac
}

# heartbeat LABEL prints a line every 30 s while a long step runs, so a cold
# build never looks hung; the caller kills it.
heartbeat() {
	local start=$SECONDS
	while sleep 30; do
		echo "    ... still building $1 ($(((SECONDS - start) / 60))m$(((SECONDS - start) % 60))s)"
	done
}

# gobuild MODULE_DIR OUT PKG LDFLAGS builds one command with progress.
gobuild() {
	local dir=$1 out=$2 pkg=$3 ldflags=$4 start=$SECONDS hb
	echo "==> building $(basename "$out") from $pkg"
	heartbeat "$(basename "$out")" &
	hb=$!
	if ! (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out" "$pkg"); then
		kill "$hb" 2>/dev/null || true
		echo "build of $pkg failed; rerun 'make tools' to retry" >&2
		return 1
	fi
	kill "$hb" 2>/dev/null || true
	wait "$hb" 2>/dev/null || true
	echo "    done in $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
}

build_kubernetes() {
	local dest=$1 v minor ldflags cmd
	v=$(version "$here/kubernetes" k8s.io/kubernetes)
	minor=$(echo "$v" | cut -d. -f2)
	ldflags="-s -w"
	for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
		ldflags+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
	done
	for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
		gobuild "$here/kubernetes" "$dest/bin/$cmd" "k8s.io/kubernetes/cmd/$cmd" "$ldflags"
	done
}

build_etcd() {
	local dest=$1
	gobuild "$here/etcd" "$dest/bin/etcd" go.etcd.io/etcd/server/v3 "-s -w"
	gobuild "$here/etcd" "$dest/bin/etcdctl" go.etcd.io/etcd/etcdctl/v3 "-s -w"
}

build_kwok() {
	local dest=$1 v
	v=$(version "$here/kwok" sigs.k8s.io/kwok)
	gobuild "$here/kwok" "$dest/bin/kwok" sigs.k8s.io/kwok/cmd/kwok \
		"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$v"
	kwok_files "$dest"
}

# kwok_files copies what kwok needs beside its binary from the module zip:
# the stage configs that move nodes and pods through their lifecycle, and the
# Metric and ClusterResourceUsage that emulate kubelet's resource metrics
# (kustomize/metrics; usage read from pod annotations).
kwok_files() {
	local dest=$1 src f y
	src=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
	mkdir -p "$dest/stages" "$dest/metrics"
	for f in node/fast node/heartbeat-with-lease pod/general; do
		for y in "$src/kustomize/stage/$f/"*.yaml; do
			[ "$(basename "$y")" = kustomization.yaml ] && continue
			cp "$y" "$dest/stages/$(echo "$f" | tr / -)-$(basename "$y")"
		done
	done
	cp "$src/kustomize/metrics/resource/metrics-resource.yaml" "$src/kustomize/metrics/usage/usage-from-annotation.yaml" "$dest/metrics/"
	chmod -R u+w "$dest/stages" "$dest/metrics"
}

build_helm() {
	local dest=$1 v
	v=$(version "$here/helm" helm.sh/helm/v3)
	gobuild "$here/helm" "$dest/bin/helm" helm.sh/helm/v3/cmd/helm \
		"-s -w -X helm.sh/helm/v3/internal/version.version=$v -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
}

# build_certmanager builds our own small mains for cert-manager's controller
# and cainjector (tools/certmanager; cert-manager's cmd/ modules are not on the
# proxy) and copies its CRDs, plain YAML in the module zip, next to them.
build_certmanager() {
	local dest=$1 v src ldflags
	v=$(version "$here/certmanager" github.com/cert-manager/cert-manager)
	ldflags="-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$v"
	gobuild "$here/certmanager" "$dest/bin/cert-manager-controller" ./controller "$ldflags"
	gobuild "$here/certmanager" "$dest/bin/cert-manager-cainjector" ./cainjector "$ldflags"
	src=$(cd "$here/certmanager" && go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager)
	mkdir -p "$dest/crds"
	cp "$src"/deploy/crds/*.yaml "$dest/crds/"
	chmod -R u+w "$dest/crds"
	echo "    copied $(ls "$dest/crds" | wc -l) CRDs to $dest/crds"
}

# build_controllergen builds controller-gen, which generates deepcopy
# functions and CRD manifests from the API types (make generate, and the test
# that fails when the generated files are stale).
build_controllergen() {
	local dest=$1 v
	v=$(version "$here/controllergen" sigs.k8s.io/controller-tools)
	gobuild "$here/controllergen" "$dest/bin/controller-gen" sigs.k8s.io/controller-tools/cmd/controller-gen \
		"-s -w -X sigs.k8s.io/controller-tools/pkg/version.version=$v"
}

# build_prometheusadapter builds prometheus-adapter, the aggregated API
# server that gives the HPA controller metrics from the local Prometheus.
build_prometheusadapter() {
	local dest=$1
	gobuild "$here/prometheusadapter" "$dest/bin/prometheus-adapter" sigs.k8s.io/prometheus-adapter/cmd/adapter "-s -w"
}

# build_staticcheck builds staticcheck (make lint); it knows its own
# version (a constant in the module).
build_staticcheck() {
	gobuild "$here/staticcheck" "$1/bin/staticcheck" honnef.co/go/tools/cmd/staticcheck "-s -w"
}

# build_actionlint builds actionlint, which checks .github/workflows (make lint).
build_actionlint() {
	local dest=$1 v
	v=$(version "$here/actionlint" github.com/rhysd/actionlint)
	gobuild "$here/actionlint" "$dest/bin/actionlint" github.com/rhysd/actionlint/cmd/actionlint \
		"-s -w -X github.com/rhysd/actionlint.version=$v"
}

if [ "${1:-}" = "--print-dir" ]; then
	component_dir "$2"
	exit 0
fi

components=("$@")
[ ${#components[@]} -gt 0 ] || components=("${all[@]}")

for c in "${components[@]}"; do
	dest=$(component_dir "$c")
	if [ -f "$dest/bin/.complete" ]; then
		echo "==> $c: cached in $dest"
		# A kwok cached before the metrics configs were copied gets them now.
		if [ "$c" = kwok ] && [ ! -d "$dest/metrics" ]; then
			kwok_files "$dest"
			echo "    copied kwok's metrics configs to $dest/metrics"
		fi
		continue
	fi
	echo "==> $c: building into $dest (first time only; on 2 cores Kubernetes takes ~8-12 min, the others 1-5 min each)"
	start=$SECONDS
	gocache=$(mktemp -d "${TMPDIR:-/tmp}/trimtab-gocache.XXXXXX")
	rm -rf "$dest" && mkdir -p "$dest/bin"
	if ! GOCACHE=$gocache "build_$c" "$dest"; then
		rm -rf "$gocache"
		exit 1
	fi
	rm -rf "$gocache"
	touch "$dest/bin/.complete"
	echo "==> $c: built in $((SECONDS - start))s, $(du -sh "$dest" | cut -f1)"
done
