package manager

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// BenchmarkCacheMemory measures the heap the manager's cluster-wide
// informer caches hold at 10,000 workloads, trimmed as trimObject trims
// them and untrimmed for comparison (issue 17, item 5). Run it with
//
//	go test ./internal/manager -run '^$' -bench CacheMemory -benchtime 1x
//
// The objects are those the local control plane stored for a
// `kubectl apply` of testdata/cachememory/objects.yaml (read back with
// `kubectl get --show-managed-fields -o json`: managed fields, kubectl's
// last-applied copy and the controllers' status included), each copy
// decoded on its own and stored under a new name and UID in
// an indexer like the one a controller-runtime informer keeps, with its
// namespace index. The workload mix is stated in cacheMix; per-object
// numbers are reported too, so another mix can be worked out from them.
//
// It reports heap bytes per workload ("B/workload") and in all
// ("MiB-total"), measured as the live heap after a GC, before and after
// the stores are filled.
func BenchmarkCacheMemory(b *testing.B) {
	fixtures := loadCacheFixtures(b)
	for _, trim := range []bool{true, false} {
		name := "trimmed"
		if !trim {
			name = "untrimmed"
		}
		b.Run(name, func(b *testing.B) {
			var perWorkload, total float64
			for range b.N {
				bytes, kept := fillCaches(b, fixtures, cacheMix, trim)
				perWorkload, total = float64(bytes)/float64(cacheMix.workloads()), float64(bytes)/(1<<20)
				runtime.KeepAlive(kept)
			}
			b.ReportMetric(perWorkload, "B/workload")
			b.ReportMetric(total, "MiB-total")
		})
		for _, k := range cacheKinds {
			b.Run(name+"/"+k, func(b *testing.B) {
				var per float64
				for range b.N {
					bytes, kept := fillCaches(b, fixtures, mix{k: 2_000}, trim)
					per = float64(bytes) / 2_000
					runtime.KeepAlive(kept)
				}
				b.ReportMetric(per, "B/object")
			})
		}
	}
}

// mix is how many objects of each kind the caches hold.
type mix map[string]int

// cacheMix is 10,000 workloads: 7,000 Deployments, each with an HPA and
// three ReplicaSets (the current one and two old ones kept for rollback;
// the default revisionHistoryLimit keeps up to ten), 1,000 StatefulSets
// and 2,000 CronJobs, each with the three finished Jobs the default
// successfulJobsHistoryLimit keeps.
var cacheMix = mix{
	"deployment": 7_000, "replicaset": 21_000, "horizontalpodautoscaler": 7_000,
	"statefulset": 1_000, "cronjob": 2_000, "job": 6_000,
}

func (m mix) workloads() int { return m["deployment"] + m["statefulset"] + m["cronjob"] }

var cacheKinds = []string{"deployment", "replicaset", "horizontalpodautoscaler", "statefulset", "cronjob", "job"}

// loadCacheFixtures reads testdata/cachememory/<kind>.json.
func loadCacheFixtures(b *testing.B) map[string][]byte {
	b.Helper()
	out := map[string][]byte{}
	for _, k := range cacheKinds {
		raw, err := os.ReadFile(filepath.Join("testdata", "cachememory", k+".json"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decodeFixture(k, raw); err != nil {
			b.Fatal(err)
		}
		out[k] = raw
	}
	return out
}

// decodeFixture decodes a kind's fixture into a new object, every string
// its own, as each object a watch delivers is (a deep copy would share the
// strings, and hide what trimming frees).
func decodeFixture(kind string, raw []byte) (client.Object, error) {
	var obj client.Object
	switch kind {
	case "deployment":
		obj = &appsv1.Deployment{}
	case "replicaset":
		obj = &appsv1.ReplicaSet{}
	case "statefulset":
		obj = &appsv1.StatefulSet{}
	case "horizontalpodautoscaler":
		obj = &autoscalingv2.HorizontalPodAutoscaler{}
	case "cronjob":
		obj = &batchv1.CronJob{}
	case "job":
		obj = &batchv1.Job{}
	default:
		return nil, fmt.Errorf("no fixture kind %q", kind)
	}
	if err := json.Unmarshal(raw, obj); err != nil {
		return nil, fmt.Errorf("decoding the %s fixture: %w", kind, err)
	}
	return obj, nil
}

// fillCaches stores the objects of m, copies of fixtures spread over 100
// namespaces, in one indexer per kind, and returns the live heap they
// added and the indexers (to keep alive until measured).
func fillCaches(b *testing.B, fixtures map[string][]byte, m mix, trim bool) (uint64, []toolscache.Indexer) {
	b.Helper()
	before := liveHeap()
	var stores []toolscache.Indexer
	for _, k := range cacheKinds {
		n := m[k]
		if n == 0 {
			continue
		}
		// As controller-runtime's informers index: by namespace.
		store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc,
			toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
		for i := range n {
			obj, err := decodeFixture(k, fixtures[k])
			if err != nil {
				b.Fatal(err)
			}
			obj.SetNamespace(fmt.Sprintf("team-%02d", i%100))
			obj.SetName(fmt.Sprintf("%s-%05d", obj.GetName(), i))
			obj.SetUID(types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i)))
			if trim {
				if _, err := trimObject(obj); err != nil {
					b.Fatal(err)
				}
			}
			if err := store.Add(obj); err != nil {
				b.Fatal(err)
			}
		}
		stores = append(stores, store)
	}
	after := liveHeap()
	if after < before {
		return 0, stores
	}
	return after - before, stores
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.HeapAlloc
}
