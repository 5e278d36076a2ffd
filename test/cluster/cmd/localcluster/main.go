// Command localcluster starts and stops trimtab's local control plane (see
// package cluster). The Makefile's cluster-up, cluster-down and test targets
// call it.
//
//	localcluster up       start, or reuse a healthy cluster; prints the kubeconfig path
//	                      (-addons cert-manager,prometheus,prometheus-adapter also
//	                      starts those add-ons; -prometheus-targets sets what
//	                      Prometheus scrapes, -prometheus-backfill imports an
//	                      OpenMetrics file of history first)
//	localcluster down     stop the processes it started, by PID, and remove state
//	localcluster status   exit 0 if a healthy cluster is recorded, 1 otherwise
//	localcluster assets   print the KUBEBUILDER_ASSETS directory for envtest
//	localcluster webhooks register trimtab's webhooks by URL for a manager
//	                      running outside the cluster (-url, -cert-dir)
//	localcluster prometheus-url  print the Prometheus add-on's base URL
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

func main() {
	root := flag.String("root", ".", "repository root; state goes to ROOT/.cluster")
	url := flag.String("url", "https://127.0.0.1:19443", "webhooks: base URL of the manager's webhook server")
	certDir := flag.String("cert-dir", ".cluster/webhook-certs", "webhooks: directory for the development serving certificate")
	addons := flag.String("addons", "", "up: comma-separated add-ons to start as well: "+strings.Join(knownAddons, ", "))
	targets := flag.String("prometheus-targets", "", "up: comma-separated scrape targets for the prometheus add-on (default: the apiserver's /metrics)")
	backfill := flag.String("prometheus-backfill", "", "up: OpenMetrics file (samples with timestamps) to import into Prometheus's storage before the add-ons start, e.g. from loadexporter -backfill")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: localcluster [-root DIR] [-url URL -cert-dir DIR] up|down|status|assets|webhooks|prometheus-url [-addons cert-manager,prometheus,prometheus-adapter] [-prometheus-targets URL,...] [-prometheus-backfill FILE]")
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	verb := flag.Arg(0)
	// Flags may also follow the verb: `localcluster up -addons cert-manager`.
	if err := flag.CommandLine.Parse(flag.Args()[1:]); err != nil || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, a := range strings.Split(*addons, ",") {
		if a := strings.TrimSpace(a); a != "" && !slices.Contains(knownAddons, a) {
			fmt.Fprintf(os.Stderr, "localcluster: unknown add-on %q in -addons (accepted: %s)\n", a, strings.Join(knownAddons, ", "))
			os.Exit(2)
		}
	}
	if err := run(verb, *root, *url, *certDir, *addons, *targets, *backfill); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

// knownAddons are the add-ons -addons accepts.
var knownAddons = []string{"cert-manager", "prometheus", "prometheus-adapter"}

func run(verb, root, url, certDir, addons, targets, backfill string) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	cfg, err := cluster.DefaultConfig(root)
	if err != nil {
		return err
	}
	logf := func(format string, args ...any) { fmt.Printf("  "+format+"\n", args...) }
	switch verb {
	case "up":
		start := time.Now()
		cl, err := cluster.Up(ctx, cfg, logf)
		if err != nil {
			return err
		}
		verb := "started"
		if cl.Reused {
			verb = "reused"
		}
		fmt.Printf("local control plane %s in %.1fs\n  kubectl --kubeconfig %s get nodes\n", verb, time.Since(start).Seconds(), cfg.Kubeconfig())
		if backfill != "" {
			start := time.Now()
			if err := cl.BackfillPrometheus(ctx, backfill); err != nil {
				return err
			}
			fmt.Printf("backfilled %s into Prometheus's storage in %.1fs\n", backfill, time.Since(start).Seconds())
		}
		return startAddons(ctx, cl, addons, targets)
	case "down":
		if err := cluster.DownDir(cfg); err != nil {
			return err
		}
		fmt.Println("local control plane stopped")
		return nil
	case "status":
		cl, healthy, err := cluster.Status(ctx, cfg)
		if err != nil || !healthy {
			fmt.Println("no healthy local control plane in", cfg.Dir)
			os.Exit(1)
		}
		fmt.Println("healthy local control plane in", cfg.Dir)
		if addons := cl.RunningAddons(); len(addons) > 0 {
			fmt.Println("  add-ons running:", strings.Join(addons, ", "))
		}
		return nil
	case "prometheus-url":
		fmt.Printf("http://127.0.0.1:%d\n", cfg.PrometheusPort)
		return nil
	case "assets":
		dir, err := cluster.PrepareEnvtestAssets(cfg)
		if err != nil {
			return err
		}
		fmt.Println(dir)
		return nil
	case "webhooks":
		cl, healthy, err := cluster.Status(ctx, cfg)
		if err != nil || !healthy {
			return fmt.Errorf("no healthy local control plane in %s: run `make cluster-up` first", cfg.Dir)
		}
		ca, err := cluster.DevWebhookCerts(certDir)
		if err != nil {
			return err
		}
		cs, err := cl.Clientset()
		if err != nil {
			return err
		}
		if err := cluster.RegisterWebhooks(ctx, cs, "trimtab", url, ca, config.DefaultSettings(), ""); err != nil {
			return err
		}
		fmt.Printf("webhooks registered: the apiserver calls %s (serving certificate in %s)\n", url, certDir)
		return nil
	default:
		return fmt.Errorf("unknown command %q (accepted: up, down, status, assets, webhooks, prometheus-url)", verb)
	}
}

// startAddons starts the add-ons named in list (comma-separated) on cl.
func startAddons(ctx context.Context, cl *cluster.Cluster, list, targets string) error {
	for _, name := range strings.Split(list, ",") {
		start := time.Now()
		switch strings.TrimSpace(name) {
		case "":
			continue
		case "cert-manager":
			if err := cl.StartCertManager(ctx); err != nil {
				return err
			}
			fmt.Printf("cert-manager (controller + cainjector, no webhook) ready in %.1fs; ClusterIssuer %s\n", time.Since(start).Seconds(), cluster.SelfSignedClusterIssuer)
		case "prometheus":
			scrape := []string{"https://127.0.0.1:" + strconv.Itoa(cl.Config.APIServerPort) + "/metrics"}
			if targets != "" {
				scrape = strings.Split(targets, ",")
			}
			url, err := cl.StartPrometheus(ctx, scrape)
			if err != nil {
				return err
			}
			fmt.Printf("prometheus ready in %.1fs at %s, scraping %s\n", time.Since(start).Seconds(), url, strings.Join(scrape, ", "))
		case "prometheus-adapter":
			if err := cl.StartPrometheusAdapter(ctx, nil); err != nil {
				return err
			}
			fmt.Printf("prometheus-adapter ready in %.1fs: custom.metrics.k8s.io, external.metrics.k8s.io and metrics.k8s.io served from Prometheus\n", time.Since(start).Seconds())
		default:
			return fmt.Errorf("unknown add-on %q in -addons (accepted: %s)", name, strings.Join(knownAddons, ", "))
		}
	}
	return nil
}
