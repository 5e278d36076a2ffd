package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/ociimage"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// The manager as its own process (`trimtab manager`, the binary users run),
// for tests that signal it: kill -9, SIGSTOP. In-process managers
// (startManager) cannot be frozen or killed without freezing or killing the
// test.

var trimtabBuild struct {
	once sync.Once
	bin  *ociimage.Binary
	path string
	err  error
}

// e2eLDFlags stamps the e2e build's version, so `trimtab version` and the
// image test's build_info say which build is running.
const e2eLDFlags = "-X github.com/trimtab-dev/trimtab/internal/version.Version=e2e"

// trimtabBinary returns the trimtab binary: $TRIMTAB_BIN when set, or else
// ./cmd/trimtab built once per test binary into the cluster directory.
func trimtabBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TRIMTAB_BIN"); p != "" {
		p, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	buildTrimtab(t)
	return trimtabBuild.path
}

// trimtabHostBinary returns ./cmd/trimtab built for this machine's
// platform exactly as `make image` builds each platform's binary
// (ociimage.GoBuild: static, -trimpath, stripped): the same build
// trimtabBinary runs, so the image test (image_test.go) costs no second
// compile, and `make image`'s linux/amd64 build finds every package in
// Go's build cache.
func trimtabHostBinary(t testing.TB) *ociimage.Binary {
	t.Helper()
	buildTrimtab(t)
	return trimtabBuild.bin
}

func buildTrimtab(t testing.TB) {
	t.Helper()
	trimtabBuild.once.Do(func() {
		root, err := cluster.RepoRoot()
		if err != nil {
			trimtabBuild.err = err
			return
		}
		bin, err := ociimage.GoBuild(root, "./cmd/trimtab", hostPlatform(), e2eLDFlags)
		if err != nil {
			trimtabBuild.err = err
			return
		}
		dir := filepath.Join(cluster.Start(t).Config.Dir, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			trimtabBuild.err = err
			return
		}
		// Write beside the target and rename, so a concurrent test binary
		// never runs a half-written file.
		tmp := filepath.Join(dir, "trimtab-e2e."+rand.String(6))
		if err := os.WriteFile(tmp, bin.Body, 0o755); err != nil {
			trimtabBuild.err = err
			return
		}
		trimtabBuild.bin, trimtabBuild.path = bin, filepath.Join(dir, "trimtab-e2e")
		trimtabBuild.err = os.Rename(tmp, trimtabBuild.path)
	})
	if trimtabBuild.err != nil {
		t.Fatalf("building trimtab: %v", trimtabBuild.err)
	}
}

// hostPlatform is the linux platform of the machine the tests run on.
func hostPlatform() ociimage.Platform {
	return ociimage.Platform{OS: "linux", Arch: runtime.GOARCH}
}

// managerProcess is `trimtab manager` running against the local cluster,
// its webhooks registered by URL for the namespaces routed to name.
type managerProcess struct {
	t     testing.TB
	name  string
	bin   string
	args  []string
	env   []string
	log   string
	probe int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// startManagerProcess starts `trimtab manager` (webhooks only, no decision
// controller, no leader election) with extra flags, waits until it is
// ready and registers its webhooks; all is undone when the test ends.
func startManagerProcess(t testing.TB, extra ...string) *managerProcess {
	t.Helper()
	cl := cluster.Start(t)
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	ca, err := cluster.DevWebhookCerts(certDir)
	if err != nil {
		t.Fatal(err)
	}
	port, probe := freePort(t), freePort(t)
	name := "trimtab-e2e-" + rand.String(6)
	p := &managerProcess{
		t: t, name: name, bin: trimtabBinary(t), probe: probe,
		log: filepath.Join(cl.Config.Dir, "logs", name+".log"),
		args: append([]string{"manager",
			"--webhook-host=127.0.0.1", "--webhook-port=" + strconv.Itoa(port), "--cert-dir=" + certDir,
			"--health-probe-bind-address=127.0.0.1:" + strconv.Itoa(probe),
			"--metrics-bind-address=0", "--decisions=false", "--leader-elect=false",
		}, extra...),
		// KUBECONFIG rather than --kubeconfig: the manager then loads its
		// configuration as it does in a cluster (controller-runtime's
		// GetConfig, no client-side throttling).
		env: append(os.Environ(), "KUBECONFIG="+cl.Config.Kubeconfig()),
	}
	p.start()
	t.Cleanup(p.stop)
	p.waitReady(60 * time.Second)
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	if err := cluster.RegisterWebhooks(context.Background(), cs, name, url, ca, config.DefaultSettings(), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.UnregisterWebhooks(context.Background(), cs, name); err != nil {
			t.Errorf("unregistering webhooks: %v", err)
		}
	})
	return p
}

// optedIn returns the labels that opt a namespace in and route it to p.
func (p *managerProcess) optedIn() map[string]string {
	return map[string]string{config.NamespaceLabel: config.NamespaceLabelValue, runLabel: p.name}
}

// start starts the process, its output appended to p.log.
func (p *managerProcess) start() {
	p.t.Helper()
	logFile, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("starting %s: %v", p.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// signal sends sig to the process (and only to it).
func (p *managerProcess) signal(sig syscall.Signal) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("sending %v to the manager (pid %d): %v", sig, p.cmd.Process.Pid, err)
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (p *managerProcess) kill() {
	p.t.Helper()
	p.signal(syscall.SIGKILL)
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	<-done
}

// stop ends the process if it still runs: SIGCONT (it may be frozen), then
// SIGTERM, then SIGKILL after 10 s.
func (p *managerProcess) stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// waitReady polls /readyz until it passes and returns when it did.
func (p *managerProcess) waitReady(timeout time.Duration) time.Time {
	p.t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", p.probe)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now()
			}
			err = errors.New(resp.Status)
		}
		p.mu.Lock()
		done := p.done
		p.mu.Unlock()
		select {
		case <-done:
			p.t.Fatalf("the manager exited before it was ready; see %s", p.log)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the manager not ready after %s (last: %v); see %s", timeout, err, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
