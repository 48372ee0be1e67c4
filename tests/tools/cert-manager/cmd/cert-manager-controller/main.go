// Command cert-manager-controller runs the cert-manager controllers the tests need (Issuers with
// the self-signed and CA issuers, the Certificate lifecycle and the CertificateRequest approver
// and signers) from cert-manager's own packages, against one API server given by a kubeconfig.
// The upstream binary lives in a Go module the module proxy does not serve; this command wires
// the same controller constructors together. It serves until SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"k8s.io/klog/v2"

	// Each import registers its controller constructors (controllerpkg.Known) or its issuer
	// type (issuer.RegisterIssuer) in an init function.
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server (required)")
	namespace := flag.String("namespace", "", "only watch this namespace (default: all)")
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "cert-manager", "namespace of ClusterIssuer secrets")
	workers := flag.Int("workers", 2, "workers per controller")
	klog.InitFlags(nil)
	flag.Parse()
	if *kubeconfig == "" {
		fail("--kubeconfig is required")
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := logf.Log.WithName("cert-manager-controller")
	ctx = logf.NewContext(ctx, log)

	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         *kubeconfig,
		KubernetesAPIQPS:   50,
		KubernetesAPIBurst: 100,
		Namespace:          *namespace,
		IssuerOptions: controllerpkg.IssuerOptions{
			ClusterResourceNamespace: *clusterResourceNamespace,
		},
		CertificateOptions: controllerpkg.CertificateOptions{EnableOwnerRef: true},
	})
	if err != nil {
		fail("controller context: %v", err)
	}

	// Constructing a controller registers its informers with the shared factories, so every
	// controller is built before the factories start.
	known := controllerpkg.Known()
	names := make([]string, 0, len(known))
	for name := range known {
		names = append(names, name)
	}
	sort.Strings(names)
	controllers := make(map[string]controllerpkg.Interface, len(names))
	for _, name := range names {
		c, err := known[name](factory)
		if err != nil {
			fail("controller %s: %v", name, err)
		}
		controllers[name] = c
	}

	base, err := factory.Build()
	if err != nil {
		fail("controller context: %v", err)
	}
	base.KubeSharedInformerFactory.Start(ctx.Done())
	base.SharedInformerFactory.Start(ctx.Done())
	base.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())

	fmt.Fprintf(os.Stderr, "cert-manager-controller: running %v\n", names)
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	for _, name := range names {
		wg.Add(1)
		go func(name string, c controllerpkg.Interface) {
			defer wg.Done()
			if err := c.Run(*workers, ctx); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}(name, controllers[name])
	}
	code := 0
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "cert-manager-controller: shutting down")
	case err := <-errs:
		fmt.Fprintf(os.Stderr, "cert-manager-controller: %v\n", err)
		code = 1
		stop()
	}
	wg.Wait()
	os.Exit(code)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cert-manager-controller: "+format+"\n", args...)
	os.Exit(2)
}
