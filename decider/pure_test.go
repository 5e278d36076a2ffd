package decider_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/trimtab-dev/trimtab/"

// pure are the package trees that decide without doing I/O: no client, no
// clock, no network, no files. docs/architecture.md draws the line.
var pure = []string{"decider/...", "config", "prices", "placer/..."}

// io are imports a pure package must never reach, even indirectly: the
// Kubernetes and cloud clients, the Prometheus client, and the project's
// own I/O packages.
var io = []string{
	"sigs.k8s.io/controller-runtime",
	"k8s.io/client-go",
	"github.com/aws/",
	"github.com/prometheus/client_golang",
	module + "webhook",
	module + "controllers",
	module + "signals",
	module + "internal/manager",
	module + "prices/ec2",
	module + "prices/file",
	module + "simulate",
	module + "cmd",
	module + "test",
}

// TestPureCoreDoesNoIO holds the architecture to its rule: a pure package
// never imports an I/O package, and its code never reads the clock, the
// environment or files, or opens a connection.
func TestPureCoreDoesNoIO(t *testing.T) {
	root := "../"
	var pkgs []string
	for _, p := range pure {
		if _, err := os.Stat(filepath.Join(root, strings.TrimSuffix(p, "/..."))); err != nil {
			continue // not written yet
		}
		pkgs = append(pkgs, "./"+p)
	}
	out, err := goList(t, root, append([]string{"-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}, pkgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range out {
		for _, bad := range io {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("a pure package (%s) depends on %s", strings.Join(pure, ", "), dep)
			}
		}
	}
	files, err := goList(t, root, append([]string{"-f", `{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}`}, pkgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	forbidden := regexp.MustCompile(`\btime\.(Now|Since|Until|Sleep|After|Tick|NewTimer|NewTicker)\(|\bos\.(Open|Create|ReadFile|WriteFile|Getenv|Environ)\(|"net/http"|"os/exec"`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			if m := forbidden.FindString(line); m != "" {
				t.Errorf("%s:%d: %s in a pure package; pass the value in", f, i+1, m)
			}
		}
	}
}

func goList(t *testing.T, dir string, args ...string) ([]string, error) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}
