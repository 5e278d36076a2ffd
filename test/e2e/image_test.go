package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/manager"
	"github.com/trimtab-dev/trimtab/internal/ociimage"
	"github.com/trimtab-dev/trimtab/test/cluster"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
)

// TestImageRunsAsTheChartRunsIt builds trimtab's image for this machine's
// platform (internal/ociimage, as `make image` does, from the binary the
// other e2e tests run, so no second compile), unpacks its filesystem and
// runs its entrypoint the way a kubelet would run the chart's Deployment:
// the Deployment is read from the installed release (`helm get manifest`,
// what `helm template` renders), its args with $(VAR) expanded from its
// env, as the pod securityContext's user (checked against the image's
// configured user 65532), with no capabilities, chrooted into the image
// with its root mounted read-only, the cert-manager-issued serving Secret
// mounted where the chart mounts it, and the chart's ServiceAccount token,
// CA and namespace where client-go's in-cluster configuration reads them,
// KUBERNETES_SERVICE_HOST/PORT naming the local apiserver. Then the chart's
// probes must answer on their paths and ports, the metrics port must serve
// TLS, the process must win the chart's leader election (its RBAC and the
// in-cluster configuration work), and the apiserver's admission calls must
// reach it: pods of a spot Deployment come out placed.
//
// The process shares the host's network (the chart's ports are set to free
// ones) and runs in private mount and UTS namespaces (util-linux unshare),
// so nothing it mounts outlives it and its hostname is the pod's name. It
// needs root, for chroot and mounts.
//
// Two builds of the image must have the same digest: the second re-runs
// the whole build, the go build included (a build-cache hit, then a
// link), so trimtab's own image is shown reproducible without the
// two-platform `make image` (~16 min of CPU cold).
func TestImageRunsAsTheChartRunsIt(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to chroot into the image and mount its root read-only (CI runs make test as root: .github/workflows/ci.yml)")
	}
	tools := map[string]string{}
	for _, name := range []string{"unshare", "mount", "chroot"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s (util-linux/coreutils) is needed to run the image: %v", name, err)
		}
		tools[name] = p
	}
	began := time.Now()
	ctx := context.Background()
	cl := cluster.Start(t)

	// The image, assembled and unpacked while cert-manager issues the
	// serving certificate.
	buildStart := time.Now()
	bin := trimtabHostBinary(t)
	buildTime := time.Since(buildStart)
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	type built struct {
		cfg       *v1.ConfigFile
		digest    v1.Hash
		imageTime time.Duration
		err       error
	}
	type rebuilt struct {
		digest v1.Hash
		took   time.Duration
		err    error
	}
	images := make(chan built, 1)
	rebuilds := make(chan rebuilt, 1)
	ca, _ := ociimage.CABundle()
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	go func() {
		var b built
		defer func() { images <- b }()
		start := time.Now()
		img, err := ociimage.Image(bin, ca, epoch)
		if err == nil {
			b.digest, err = img.Digest()
		}
		if err == nil {
			b.cfg, err = img.ConfigFile()
		}
		if err == nil {
			err = ociimage.Unpack(img, rootfs)
		}
		b.imageTime, b.err = time.Since(start), err
	}()
	// The second build, from scratch but for Go's build cache, runs while
	// the first image runs; it is compared at the end.
	go func() {
		var r rebuilt
		defer func() { rebuilds <- r }()
		start := time.Now()
		root, err := cluster.RepoRoot()
		var bin2 *ociimage.Binary
		if err == nil {
			bin2, err = ociimage.GoBuild(root, "./cmd/trimtab", hostPlatform(), e2eLDFlags)
		}
		var img2 v1.Image
		if err == nil {
			img2, err = ociimage.Image(bin2, ca, epoch)
		}
		if err == nil {
			r.digest, err = img2.Digest()
		}
		r.took, r.err = time.Since(start), err
	}()

	if err := cl.StartCertManager(ctx); err != nil {
		t.Fatalf("starting cert-manager: %v", err)
	}
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	adminCfg, err := cl.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	installCRDs(t, cl)
	release := "trimtab-img-" + rand.String(4)
	ns := release
	webhookPort, metricsPort, healthPort := freePort(t), freePort(t), freePort(t)
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	out, err := helmCmd(t, cl, "install", release, chartPath(t), "--namespace", ns, "--create-namespace", "--wait=false",
		"--set", fmt.Sprintf("webhook.url=https://127.0.0.1:%d", webhookPort),
		"--set", fmt.Sprintf("webhook.port=%d", webhookPort),
		"--set", fmt.Sprintf("metrics.port=%d", metricsPort),
		"--set", fmt.Sprintf("healthProbe.port=%d", healthPort),
		// The leader's controllers would act on every opted-in namespace
		// of the tests running beside this one.
		"--set", "decisions.enabled=false", "--set", "requests.enabled=false",
		// The CRDs are cluster-wide, shared with the other tests (and kept on
		// uninstall): installed once, outside any release.
		"--set", "crds.enabled=false")
	if err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = helmCmd(t, cl, "uninstall", release, "--namespace", ns) })
	// The chart's webhooks take every opted-in namespace; narrow them to
	// this test's (the run label), or they would also mutate the pods of
	// the tests running beside this one.
	routeWebhooksToRun(t, ctx, cs, release)

	manifest, err := helmCmd(t, cl, "get", "manifest", release, "--namespace", ns)
	if err != nil {
		t.Fatalf("helm get manifest: %v\n%s", err, manifest)
	}
	dep := chartDeployment(t, manifest)
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]

	b := <-images
	if b.err != nil {
		t.Fatalf("building the image: %v", b.err)
	}
	t.Logf("image %s: e2e binary build %s (shared with the other e2e tests), image assembled and unpacked in %s",
		b.digest, buildTime.Round(time.Millisecond), b.imageTime.Round(time.Millisecond))

	// The user: the chart's securityContext wins over the image's, so the
	// two must agree or the image's file ownership is meant for someone else.
	uid, gid := *pod.SecurityContext.RunAsUser, *pod.SecurityContext.RunAsGroup
	if want := fmt.Sprintf("%d:%d", uid, gid); b.cfg.Config.User != want {
		t.Errorf("the image runs as %q, the chart as %s", b.cfg.Config.User, want)
	}
	readOnly := c.SecurityContext != nil && c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem
	if !readOnly {
		t.Errorf("the chart's container does not set readOnlyRootFilesystem")
	}

	// The environment: the image's, then the container's (the downward API
	// filled in as the kubelet would), then the Service variables client-go's
	// in-cluster configuration reads.
	env := map[string]string{}
	var envList []string
	setEnv := func(k, v string) { env[k] = v; envList = append(envList, k+"="+v) }
	for _, kv := range b.cfg.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		setEnv(k, v)
	}
	podName := dep.Name + "-image-test"
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			setEnv(e.Name, expandVars(e.Value, env))
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			setEnv(e.Name, ns)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			setEnv(e.Name, podName)
		default:
			t.Fatalf("the chart's env %s comes from %+v, which this test does not fill in yet", e.Name, e.ValueFrom)
		}
	}
	apiHost, apiPort, ok := strings.Cut(strings.TrimPrefix(adminCfg.Host, "https://"), ":")
	if !ok {
		t.Fatalf("apiserver address %q has no port", adminCfg.Host)
	}
	setEnv("KUBERNETES_SERVICE_HOST", apiHost)
	setEnv("KUBERNETES_SERVICE_PORT", apiPort)
	setEnv("HOSTNAME", podName)
	argv := append([]string{}, b.cfg.Config.Entrypoint...)
	if len(c.Command) > 0 {
		argv = append([]string{}, c.Command...)
	}
	for _, a := range c.Args {
		argv = append(argv, expandVars(a, env))
	}

	// The volumes: the chart's Secret mounts, filled from the cluster once
	// cert-manager has issued them, and the ServiceAccount's token.
	type mount struct{ src, dst string }
	var mounts []mount
	vols := t.TempDir()
	for _, vm := range c.VolumeMounts {
		var vol *corev1.Volume
		for i := range pod.Volumes {
			if pod.Volumes[i].Name == vm.Name {
				vol = &pod.Volumes[i]
			}
		}
		if vol == nil || vol.Secret == nil || !vm.ReadOnly {
			t.Fatalf("the chart mounts %s at %s from %+v: this test fills in read-only Secret volumes only", vm.Name, vm.MountPath, vol)
		}
		var data map[string][]byte
		eventually(t, 90*time.Second, func() error {
			s, err := cs.CoreV1().Secrets(ns).Get(ctx, vol.Secret.SecretName, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("the Secret %s the chart mounts at %s: %w", vol.Secret.SecretName, vm.MountPath, err)
			}
			data = s.Data
			return nil
		})
		src := filepath.Join(vols, vm.Name)
		writeVolume(t, src, data)
		mounts = append(mounts, mount{src, vm.MountPath})
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		sa := serviceAccountConfig(t, ctx, cl, adminCfg, ns, pod.ServiceAccountName)
		src := filepath.Join(vols, "serviceaccount")
		writeVolume(t, src, map[string][]byte{"token": []byte(sa.BearerToken), "ca.crt": adminCfg.CAData, "namespace": []byte(ns)})
		mounts = append(mounts, mount{src, "/var/run/secrets/kubernetes.io/serviceaccount"})
	}

	// Mount points are made in the image's tree as a container runtime
	// makes them; then, in the process's own mount namespace, the tree is
	// bound onto itself read-only, /proc and the volumes mounted, and the
	// entrypoint started chrooted as the chart's user, which drops every
	// capability.
	q := shellQuote
	// The pod's hostname is its name (leader election's identity starts with it).
	script := []string{"set -e", "printf %s " + q(podName) + " >/proc/sys/kernel/hostname",
		"m=" + q(tools["mount"]), "r=" + q(rootfs), `"$m" --bind "$r" "$r"`}
	if readOnly {
		script = append(script, `"$m" -o remount,bind,ro "$r"`)
	}
	script = append(script, `"$m" -t proc proc "$r/proc"`)
	for _, d := range append([]string{"/proc"}, func() (ds []string) {
		for _, m := range mounts {
			ds = append(ds, m.dst)
		}
		return
	}()...) {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range mounts {
		script = append(script, fmt.Sprintf(`"$m" --bind %s "$r"%s`, q(m.src), q(m.dst)),
			fmt.Sprintf(`"$m" -o remount,bind,ro "$r"%s`, q(m.dst)))
	}
	chroot := []string{"exec", q(tools["chroot"]), fmt.Sprintf("--userspec=%d:%d", uid, gid), `"$r"`}
	for _, a := range argv {
		chroot = append(chroot, q(a))
	}
	script = append(script, strings.Join(chroot, " "))
	logPath := filepath.Join(cl.Config.Dir, "logs", release+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	// unshare execs sh, which execs chroot, which execs the entrypoint: one
	// pid throughout, so signals reach trimtab itself.
	cmd := exec.Command(tools["unshare"], "--mount", "--uts", "--propagation", "private", "/bin/sh", "-c", strings.Join(script, "\n"))
	cmd.Env = envList
	cmd.Stdout, cmd.Stderr = logFile, logFile
	runStart := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the image: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	alive := func() error {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("the image's entrypoint exited (%v); its output:\n%s", cmd.ProcessState, tail(string(log), 40))
		default:
			return nil
		}
	}

	// The chart's probes answer on their paths and ports.
	portOf := func(name string) int {
		for _, p := range c.Ports {
			if p.Name == name {
				return int(p.ContainerPort)
			}
		}
		t.Fatalf("the chart's container has no port named %q", name)
		return 0
	}
	probeClient := &http.Client{Timeout: 2 * time.Second}
	for _, pr := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
		if pr == nil {
			continue
		}
		if pr.HTTPGet == nil {
			t.Fatalf("the chart's probe %+v is not an httpGet, which this test does not call yet", pr)
		}
		port := pr.HTTPGet.Port.IntValue()
		if port == 0 {
			port = portOf(pr.HTTPGet.Port.StrVal)
		}
		url := fmt.Sprintf("%s://127.0.0.1:%d%s", strings.ToLower(string(orDefault(pr.HTTPGet.Scheme, corev1.URISchemeHTTP))), port, pr.HTTPGet.Path)
		eventually(t, 90*time.Second, func() error {
			if err := alive(); err != nil {
				return err
			}
			resp, err := probeClient.Get(url)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("probe %s: %s", url, resp.Status)
			}
			return nil
		})
	}
	if err := alive(); err != nil {
		t.Fatal(err)
	}
	ready := time.Since(runStart)

	// It is the image's binary, as the chart's user, with no capabilities,
	// on a read-only root.
	pid := cmd.Process.Pid
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil || exe != filepath.Join(rootfs, "usr/local/bin/trimtab") {
		t.Errorf("the probed process runs %q (%v), want the image's /usr/local/bin/trimtab", exe, err)
	}
	status := procFields(t, fmt.Sprintf("/proc/%d/status", pid))
	wantID := fmt.Sprintf("%d\t%d\t%d\t%d", uid, uid, uid, uid)
	if status["Uid"] != wantID || status["Gid"] != strings.ReplaceAll(wantID, strconv.FormatInt(uid, 10), strconv.FormatInt(gid, 10)) {
		t.Errorf("the process runs as Uid %q Gid %q, want %d:%d throughout", status["Uid"], status["Gid"], uid, gid)
	}
	if status["CapEff"] != "0000000000000000" || status["CapPrm"] != "0000000000000000" {
		t.Errorf("the process has capabilities (CapEff %s, CapPrm %s); the chart drops them all", status["CapEff"], status["CapPrm"])
	}
	if readOnly && !rootReadOnly(t, pid) {
		t.Errorf("the process's root is not mounted read-only (/proc/%d/mountinfo)", pid)
	}

	// The metrics port serves TLS and asks for a token.
	if portOf("metrics") != metricsPort {
		t.Errorf("metrics port %d, want %d (metrics.port)", portOf("metrics"), metricsPort)
	}
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the manager's self-signed metrics certificate
	// The server's certificate is generated at start, after the probes
	// already answer.
	eventually(t, 30*time.Second, func() error {
		if err := alive(); err != nil {
			return err
		}
		resp, err := insecure.Get(fmt.Sprintf("https://127.0.0.1:%d/metrics", metricsPort))
		if err != nil {
			return fmt.Errorf("the metrics port over TLS: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			return fmt.Errorf("metrics without a token: %s, want 401 or 403", resp.Status)
		}
		return nil
	})

	// The in-cluster configuration and the chart's RBAC: it leads.
	eventually(t, 60*time.Second, func() error {
		if err := alive(); err != nil {
			return err
		}
		l, err := cs.CoordinationV1().Leases(ns).Get(ctx, manager.LeaderElectionID, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if holder := ptr.Deref(l.Spec.HolderIdentity, ""); !strings.HasPrefix(holder, podName+"_") {
			return fmt.Errorf("lease %s held by %q, want %s_…", l.Name, holder, podName)
		}
		return nil
	})

	// The apiserver's admission calls reach it, trusting the CA
	// cert-manager injected.
	e := newEnv(t, map[string]string{config.NamespaceLabel: config.NamespaceLabelValue, runLabel: release})
	e.waitActive(t)
	d := deployment("web", 2, map[string]string{config.AnnotationCapacity: "spot", config.AnnotationMode: "enforce"})
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range e.waitRunning(t, "app=web", 2) {
		if p.Labels[mutating.LabelPlacement] != "spot" {
			t.Errorf("pod %s was not placed by the image's webhook: labels %v", p.Name, p.Labels)
		}
	}
	if err := alive(); err != nil {
		t.Fatal(err)
	}
	r := <-rebuilds
	if r.err != nil {
		t.Fatalf("building the image again: %v", r.err)
	}
	if r.digest != b.digest {
		t.Errorf("two builds of trimtab's image from one commit: digests %s and %s", b.digest, r.digest)
	}
	t.Logf("image ready %s after start; rebuilt in %s as %s; whole test %s", ready.Round(time.Millisecond), r.took.Round(time.Millisecond), r.digest, time.Since(began).Round(time.Millisecond))
}

// routeWebhooksToRun adds the run label to both of the release's webhook
// namespaceSelectors.
func routeWebhooksToRun(t *testing.T, ctx context.Context, cs kubernetes.Interface, release string) {
	t.Helper()
	add := func(sel *metav1.LabelSelector) {
		if sel.MatchLabels == nil {
			sel.MatchLabels = map[string]string{}
		}
		sel.MatchLabels[runLabel] = release
	}
	api := cs.AdmissionregistrationV1()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		m, err := api.MutatingWebhookConfigurations().Get(ctx, release, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for i := range m.Webhooks {
			add(m.Webhooks[i].NamespaceSelector)
		}
		_, err = api.MutatingWebhookConfigurations().Update(ctx, m, metav1.UpdateOptions{})
		return err
	})
	if err == nil {
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			v, err := api.ValidatingWebhookConfigurations().Get(ctx, release, metav1.GetOptions{})
			if err != nil {
				return err
			}
			for i := range v.Webhooks {
				add(v.Webhooks[i].NamespaceSelector)
			}
			_, err = api.ValidatingWebhookConfigurations().Update(ctx, v, metav1.UpdateOptions{})
			return err
		})
	}
	if err != nil {
		t.Fatalf("routing the release's webhooks to this test's namespaces: %v", err)
	}
}

// chartDeployment returns the one Deployment in a rendered manifest.
func chartDeployment(t *testing.T, manifest string) *appsv1.Deployment {
	t.Helper()
	var found []*appsv1.Deployment
	for _, doc := range strings.Split(manifest, "\n---") {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("parsing the manifest: %v", err)
		}
		if meta.Kind != "Deployment" {
			continue
		}
		var d appsv1.Deployment
		if err := yaml.UnmarshalStrict([]byte(doc), &d); err != nil {
			t.Fatalf("parsing the chart's Deployment: %v", err)
		}
		found = append(found, &d)
	}
	if len(found) != 1 || len(found[0].Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want one Deployment with one container in the chart's manifest, found %d", len(found))
	}
	return found[0]
}

// varRef is a $(NAME) reference in a container's args or env, which the
// kubelet expands from the container's env.
var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expandVars expands $(NAME) as the kubelet does; an unknown name is left
// as written, as the kubelet leaves it.
func expandVars(s string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := env[varRef.FindStringSubmatch(ref)[1]]; ok {
			return v
		}
		return ref
	})
}

// writeVolume writes data as files in dir, owned by root and mode 0644, as
// a Secret volume with the default mode holds them.
func writeVolume(t *testing.T, dir string, data map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range data {
		if err := os.WriteFile(filepath.Join(dir, k), v, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// procFields reads a /proc status file's "Key:\tvalue" lines.
func procFields(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// rootReadOnly reports whether the mount at the process's "/" (as it sees
// it: mountinfo paths are relative to its root) is read-only; the last
// such line is the one on top.
func rootReadOnly(t *testing.T, pid int) bool {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	ro := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 5 && f[4] == "/" {
			ro = strings.HasPrefix(f[5], "ro,") || f[5] == "ro"
		}
	}
	return ro
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func orDefault[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
