// Command localcluster starts and stops trimtab's local control plane (see
// package cluster). The Makefile's cluster-up, cluster-down and test targets
// call it.
//
//	localcluster up       start, or reuse a healthy cluster; prints the kubeconfig path
//	localcluster down     stop the processes it started, by PID, and remove state
//	localcluster status   exit 0 if a healthy cluster is recorded, 1 otherwise
//	localcluster assets   print the KUBEBUILDER_ASSETS directory for envtest
//	localcluster webhooks register trimtab's webhooks by URL for a manager
//	                      running outside the cluster (-url, -cert-dir)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

func main() {
	root := flag.String("root", ".", "repository root; state goes to ROOT/.cluster")
	url := flag.String("url", "https://127.0.0.1:19443", "webhooks: base URL of the manager's webhook server")
	certDir := flag.String("cert-dir", ".cluster/webhook-certs", "webhooks: directory for the development serving certificate")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: localcluster [-root DIR] [-url URL -cert-dir DIR] up|down|status|assets|webhooks")
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *root, *url, *certDir); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(verb, root, url, certDir string) error {
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
		return nil
	case "down":
		if err := cluster.DownDir(cfg); err != nil {
			return err
		}
		fmt.Println("local control plane stopped")
		return nil
	case "status":
		_, healthy, err := cluster.Status(ctx, cfg)
		if err != nil || !healthy {
			fmt.Println("no healthy local control plane in", cfg.Dir)
			os.Exit(1)
		}
		fmt.Println("healthy local control plane in", cfg.Dir)
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
		return fmt.Errorf("unknown command %q (accepted: up, down, status, assets, webhooks)", verb)
	}
}
