package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Cluster is a running local control plane.
type Cluster struct {
	// Config is the caller's; only Processes is recorded in state.json.
	Config    Config    `json:"-"`
	Processes []Process `json:"processes"`
	// Addons are the optional processes started by StartCertManager and
	// StartPrometheus. The core cluster's health never depends on them.
	Addons []Process `json:"addons,omitempty"`
	// Reused is true when Up found a healthy cluster and started nothing.
	Reused bool `json:"-"`
	// Layout is the stateLayout of the package that started the cluster.
	Layout int `json:"layout,omitempty"`
}

// stateLayout changes whenever the core processes' flags or files change in
// a way a running cluster cannot pick up, so Up replaces a cluster an older
// version started instead of reusing it. 2: the aggregation layer's flags
// and kwok's usage emulation. 3: kwok renews node Leases.
const stateLayout = 3

// Logf receives progress lines; fmt.Printf-like.
type Logf func(format string, args ...any)

// Up starts the control plane described by c, or reuses the healthy one
// recorded in c.Dir. A recorded cluster that is not healthy is stopped and
// replaced. It waits until the apiserver is ready, the controllers and
// scheduler are healthy, the default ServiceAccount exists and every node is
// Ready.
func Up(ctx context.Context, c Config, logf Logf) (*Cluster, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := c.checkBinaries(); err != nil {
		return nil, err
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if prev, err := load(c); err == nil {
		switch {
		case prev.Layout != stateLayout:
			logf("the cluster recorded in %s was started by another version of package cluster (layout %d, want %d); replacing it", c.Dir, prev.Layout, stateLayout)
		case prev.healthy(ctx):
			prev.Reused = true
			logf("reusing the healthy cluster in %s", c.Dir)
			return prev, nil
		default:
			logf("the cluster recorded in %s is not healthy; replacing it", c.Dir)
		}
		if err := prev.Down(); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	if err := os.RemoveAll(c.Dir); err != nil {
		return nil, err
	}
	for _, d := range []string{c.path("logs"), c.path("etcd"), c.path("home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := (pki{c.path("pki")}).generate(); err != nil {
		return nil, err
	}
	if err := c.writeKubeconfig(); err != nil {
		return nil, err
	}
	cl := &Cluster{Config: c, Layout: stateLayout}
	fail := func(err error) (*Cluster, error) {
		_ = cl.Down()
		return nil, err
	}
	steps := []struct {
		name  string
		start func() (Process, error)
		ready func(context.Context) error
	}{
		{"etcd", cl.startEtcd, cl.etcdReady},
		{"kube-apiserver", cl.startAPIServer, cl.apiserverReady},
		{"kube-controller-manager", cl.startControllerManager, cl.componentHealthy(c.ControllerManagerPort)},
		{"kube-scheduler", cl.startScheduler, cl.componentHealthy(c.SchedulerPort)},
	}
	for _, s := range steps {
		p, err := s.start()
		if err != nil {
			return fail(err)
		}
		cl.Processes = append(cl.Processes, p)
		if err := cl.save(); err != nil {
			return fail(err)
		}
		if err := cl.waitFor(ctx, p, 60*time.Second, s.ready); err != nil {
			return fail(err)
		}
		logf("%-24s ready (pid %d) after %.1fs", s.name, p.PID, time.Since(start).Seconds())
	}
	cs, err := cl.Clientset()
	if err != nil {
		return fail(err)
	}
	if err := cl.waitFor(ctx, cl.Processes[2], 60*time.Second, func(ctx context.Context) error {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	}); err != nil {
		return fail(fmt.Errorf("waiting for the default ServiceAccount: %w", err))
	}
	if err := createNodes(ctx, cs, c.Nodes, c.SpotTaint); err != nil {
		return fail(err)
	}
	p, err := cl.startKwok()
	if err != nil {
		return fail(err)
	}
	cl.Processes = append(cl.Processes, p)
	if err := cl.save(); err != nil {
		return fail(err)
	}
	if err := cl.waitFor(ctx, p, 60*time.Second, func(ctx context.Context) error { return nodesReady(ctx, cs, len(c.Nodes)) }); err != nil {
		return fail(err)
	}
	logf("%-24s ready (pid %d), %d nodes Ready after %.1fs", "kwok", p.PID, len(c.Nodes), time.Since(start).Seconds())
	return cl, nil
}

// Down stops every process this cluster started, add-ons included, by PID,
// and removes its state directory.
func (cl *Cluster) Down() error {
	var errs []error
	// Reverse order: add-ons, then kwok and the controllers before the
	// apiserver, etcd last.
	all := append(append([]Process{}, cl.Processes...), cl.Addons...)
	for i := len(all) - 1; i >= 0; i-- {
		if err := all[i].stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return os.RemoveAll(cl.Config.Dir)
}

// DownDir stops the cluster recorded in c.Dir, if any.
func DownDir(c Config) error {
	unlock, err := c.lock()
	if err != nil {
		return err
	}
	defer unlock()
	cl, err := load(c)
	if errors.Is(err, os.ErrNotExist) {
		return os.RemoveAll(c.Dir)
	}
	if err != nil {
		return err
	}
	return cl.Down()
}

// Status returns the cluster recorded in c.Dir and whether it is healthy.
func Status(ctx context.Context, c Config) (*Cluster, bool, error) {
	cl, err := load(c)
	if err != nil {
		return nil, false, err
	}
	return cl, cl.healthy(ctx), nil
}

// RESTConfig returns an admin client configuration.
func (cl *Cluster) RESTConfig() (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", cl.Config.Kubeconfig())
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", cl.Config.Kubeconfig(), err)
	}
	cfg.QPS, cfg.Burst = 500, 1000 // tests create objects in bursts
	return cfg, nil
}

// Clientset returns an admin clientset.
func (cl *Cluster) Clientset() (*kubernetes.Clientset, error) {
	cfg, err := cl.RESTConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// healthy: this package's version started it, every recorded process runs
// and the apiserver is ready.
func (cl *Cluster) healthy(ctx context.Context) bool {
	if cl.Layout != stateLayout {
		return false
	}
	for _, p := range cl.Processes {
		if !p.alive() {
			return false
		}
	}
	if len(cl.Processes) != 5 {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return cl.apiserverReady(ctx) == nil
}

// waitFor polls ready until it succeeds, the process dies (the error then
// quotes its log) or the timeout passes.
func (cl *Cluster) waitFor(ctx context.Context, p Process, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 5*time.Second)
		last = ready(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		if !p.alive() {
			return fmt.Errorf("%s exited; last lines of %s:\n%s", p.Name, p.Log, p.tail(2000))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %w (log: %s)", p.Name, timeout, last, p.Log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (cl *Cluster) save() error {
	b, err := json.MarshalIndent(cl, "", "  ")
	if err != nil {
		return err
	}
	tmp := cl.Config.path("state.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, cl.Config.path("state.json"))
}

// withState runs fn on the state recorded in state.json, under the cluster
// lock, saves what fn changed and adopts it: add-ons may be started by several
// processes at once (test binaries, localcluster) that share one state file.
// The state is saved even when fn fails, since fn may have started a process.
func (cl *Cluster) withState(fn func(st *Cluster) error) error {
	unlock, err := cl.Config.lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := load(cl.Config)
	if err != nil {
		return fmt.Errorf("no cluster recorded in %s (start it first): %w", cl.Config.Dir, err)
	}
	ferr := fn(st)
	if err := st.save(); err != nil {
		return errors.Join(ferr, fmt.Errorf("saving the cluster state: %w", err))
	}
	cl.Processes, cl.Addons = st.Processes, st.Addons
	return ferr
}

// addon returns the recorded add-on called name if it still runs.
func (cl *Cluster) addon(name string) (Process, bool) {
	for _, p := range cl.Addons {
		if p.Name == name && p.alive() {
			return p, true
		}
	}
	return Process{}, false
}

// RunningAddons names the recorded add-ons that still run, with their PIDs.
func (cl *Cluster) RunningAddons() []string {
	var out []string
	for _, p := range cl.Addons {
		if p.alive() {
			out = append(out, p.Name+" (pid "+strconv.Itoa(p.PID)+")")
		}
	}
	return out
}

// setAddon records p, replacing an earlier add-on of the same name.
func (cl *Cluster) setAddon(p Process) {
	for i := range cl.Addons {
		if cl.Addons[i].Name == p.Name {
			cl.Addons[i] = p
			return
		}
	}
	cl.Addons = append(cl.Addons, p)
}

// stopAddon stops the add-on called name, if recorded, and forgets it.
func (cl *Cluster) stopAddon(name string) error {
	kept := cl.Addons[:0]
	var err error
	for _, p := range cl.Addons {
		if p.Name != name {
			kept = append(kept, p)
			continue
		}
		if e := p.stop(10 * time.Second); e != nil {
			err = errors.Join(err, e)
			kept = append(kept, p)
		}
	}
	cl.Addons = kept
	return err
}

func load(c Config) (*Cluster, error) {
	b, err := os.ReadFile(c.path("state.json"))
	if err != nil {
		return nil, err
	}
	cl := &Cluster{Config: c}
	if err := json.Unmarshal(b, cl); err != nil {
		return nil, fmt.Errorf("reading %s: %w", c.path("state.json"), err)
	}
	return cl, nil
}

func (cl *Cluster) startEtcd() (Process, error) {
	c := cl.Config
	client := "http://127.0.0.1:" + strconv.Itoa(c.EtcdClientPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(c.EtcdPeerPort)
	return startProcess("etcd", filepath.Join(c.EtcdBin, "etcd"), c.path("logs"),
		"--name=trimtab", "--data-dir="+c.path("etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=trimtab="+peer,
		// A throwaway test cluster: durability buys nothing, fsync costs seconds.
		"--unsafe-no-fsync", "--log-level=warn")
}

func (cl *Cluster) etcdReady(ctx context.Context) error {
	return httpGetOK(ctx, http.DefaultClient, "http://127.0.0.1:"+strconv.Itoa(cl.Config.EtcdClientPort)+"/health")
}

func (cl *Cluster) startAPIServer() (Process, error) {
	c := cl.Config
	pk := pki{c.path("pki")}
	return startProcess("kube-apiserver", filepath.Join(c.KubernetesBin, "kube-apiserver"), c.path("logs"),
		"--etcd-servers=http://127.0.0.1:"+strconv.Itoa(c.EtcdClientPort),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(c.APIServerPort),
		// 1.37 refuses a loopback advertise address with the default
		// endpoint reconciler; nothing here needs the kubernetes Endpoints.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file="+pk.file("apiserver.crt"), "--tls-private-key-file="+pk.file("apiserver.key"),
		"--client-ca-file="+pk.file("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pk.file("sa.pub"),
		"--service-account-signing-key-file="+pk.file("sa.key"),
		"--authorization-mode=Node,RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		// The aggregation layer, for metrics APIs served by an add-on
		// (StartPrometheusAdapter): the aggregator authenticates to the
		// extension server with this client certificate and passes the
		// user on in these headers.
		"--requestheader-client-ca-file="+pk.file("front-proxy-ca.crt"),
		"--requestheader-allowed-names="+frontProxyClient,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+pk.file("front-proxy-client.crt"),
		"--proxy-client-key-file="+pk.file("front-proxy-client.key"),
		"--cert-dir="+c.path("pki", "apiserver-generated"),
		"--profiling=false")
}

func (cl *Cluster) apiserverReady(ctx context.Context) error {
	cfg, err := cl.RESTConfig()
	if err != nil {
		return err
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	return httpGetOK(ctx, client, cfg.Host+"/readyz")
}

func (cl *Cluster) componentArgs(port int) []string {
	kc := cl.Config.Kubeconfig()
	return []string{
		"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
		"--leader-elect=false",
	}
}

func (cl *Cluster) startControllerManager() (Process, error) {
	c := cl.Config
	pk := pki{c.path("pki")}
	args := append(cl.componentArgs(c.ControllerManagerPort),
		"--service-account-private-key-file="+pk.file("sa.key"),
		"--root-ca-file="+pk.file("ca.crt"),
		"--cluster-signing-cert-file="+pk.file("ca.crt"),
		"--cluster-signing-key-file="+pk.file("ca.key"),
		"--use-service-account-credentials=true",
		"--cert-dir="+c.path("pki", "kcm-generated"),
		// kwok renews its nodes' Leases every 10 s (startKwok). The
		// fake nodes never really fail, and a node marked NotReady
		// leaves its pods Ready=False for good (kwok does not undo it),
		// so the grace is generous: a renewal late on two loaded cores
		// must not cost a test its pods.
		"--node-monitor-grace-period=3m",
		"--profiling=false")
	return startProcess("kube-controller-manager", filepath.Join(c.KubernetesBin, "kube-controller-manager"), c.path("logs"), args...)
}

func (cl *Cluster) startScheduler() (Process, error) {
	c := cl.Config
	args := append(cl.componentArgs(c.SchedulerPort), "--profiling=false")
	return startProcess("kube-scheduler", filepath.Join(c.KubernetesBin, "kube-scheduler"), c.path("logs"), args...)
}

// componentHealthy checks a controller-manager or scheduler /healthz; their
// serving certificates are self-generated, so it skips verification (loopback).
func (cl *Cluster) componentHealthy(port int) func(context.Context) error {
	return func(ctx context.Context) error {
		return httpGetOK(ctx, insecureLoopbackClient, "https://127.0.0.1:"+strconv.Itoa(port)+"/healthz")
	}
}

func httpGetOK(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return nil
}

// ignoreAlreadyExists lets Up create objects idempotently.
func ignoreAlreadyExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
