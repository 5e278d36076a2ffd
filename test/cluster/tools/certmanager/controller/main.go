// Command controller is a minimal cert-manager controller for trimtab's local
// control plane, built from cert-manager's main module (its cmd/ modules are
// not served by the Go module proxy).
//
// It runs only what a self-signed or CA-issued webhook certificate needs:
//
//   - issuers, clusterissuers (pkg/controller/issuers, pkg/controller/clusterissuers),
//     with the SelfSigned and CA issuer types (pkg/issuer/selfsigned, pkg/issuer/ca);
//   - the certificates-* controllers that turn a Certificate into a Secret
//     (pkg/controller/certificates/{trigger,keymanager,requestmanager,issuing,
//     readiness,revisionmanager});
//   - certificaterequests-approver (pkg/controller/certificaterequests/approver),
//     because nothing else approves CertificateRequests here;
//   - the SelfSigned and CA CertificateRequest signers
//     (pkg/controller/certificaterequests/{selfsigned,ca}).
//
// Each controller package registers its constructor in init(); this command
// builds cert-manager's controller.ContextFactory (pkg/controller) and runs the
// constructors from controller.Known(), then starts the shared informer
// factories, as cert-manager's own cmd/controller does. No ACME, Vault,
// Venafi, ingress/gateway shims, leader election or metrics server.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/klog/v2"

	"github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	// Controllers: each registers itself with controller.Register.
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	// Issuer types the (cluster)issuers controllers can check: each registers
	// itself with issuer.RegisterIssuer.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// controllers is what this binary runs; every name must be in controller.Known().
var controllers = []string{
	"issuers", "clusterissuers",
	"certificates-trigger", "certificates-key-manager", "certificates-request-manager",
	"certificates-issuing", "certificates-readiness", "certificates-revision-manager",
	"certificaterequests-approver",
	"certificaterequests-issuer-selfsigned", "certificaterequests-issuer-ca",
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster to run against")
	clusterNS := flag.String("cluster-resource-namespace", "cert-manager", "namespace of the Secrets that ClusterIssuers refer to")
	workers := flag.Int("workers", 5, "workers per controller")
	klog.InitFlags(nil)
	flag.Parse()
	logf.InitLogs()
	if *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "controller: -kubeconfig is required")
		os.Exit(2)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx = logf.NewContext(ctx, klog.Background(), "controller")
	if err := run(ctx, *kubeconfig, *clusterNS, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "controller:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, clusterNS string, workers int) error {
	factory, err := controller.NewContextFactory(ctx, controller.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   50,
		KubernetesAPIBurst: 100,
		IssuerOptions:      controller.IssuerOptions{ClusterResourceNamespace: clusterNS},
		CertificateOptions: controller.CertificateOptions{
			// cert-manager's defaults are 1h and 32h; a test cluster whose
			// issuer is not ready yet should retry within seconds.
			CertificateRequestMinimumBackoffDuration: 5 * time.Second,
			CertificateRequestMaximumBackoffDuration: 2 * time.Minute,
		},
	})
	if err != nil {
		return fmt.Errorf("building the controller context: %w", err)
	}
	known := controller.Known()
	g, gctx := errgroup.WithContext(ctx)
	for _, name := range controllers {
		construct, ok := known[name]
		if !ok {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			return fmt.Errorf("controller %q is not registered (registered: %v)", name, names)
		}
		c, err := construct(factory)
		if err != nil {
			return fmt.Errorf("constructing controller %s: %w", name, err)
		}
		g.Go(func() error { return c.Run(workers, gctx) })
	}
	// The informer factories are shared by every Context the factory builds;
	// they start after the controllers have asked for their informers.
	shared, err := factory.Build()
	if err != nil {
		return fmt.Errorf("building the shared context: %w", err)
	}
	shared.SharedInformerFactory.Start(gctx.Done())
	shared.KubeSharedInformerFactory.Start(gctx.Done())
	shared.HTTP01ResourceMetadataInformersFactory.Start(gctx.Done())
	klog.InfoS("cert-manager controllers started", "controllers", controllers)
	return g.Wait()
}
