// Command cainjector runs cert-manager's CA injector (pkg/controller/cainjector) for webhook
// configurations: it copies the CA of the Certificate named by `cert-manager.io/inject-ca-from`
// into their caBundle. The upstream binary lives in a Go module the module proxy does not serve;
// this command sets up the same controller-runtime manager. It serves until SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"os"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
)

func main() {
	// --kubeconfig is registered by controller-runtime's config package (ctrl.GetConfig).
	namespace := flag.String("namespace", "", "only inject from Certificates and Secrets of this namespace (default: all)")
	klog.InitFlags(nil)
	flag.Parse()
	ctrl.SetLogger(klog.NewKlogr().WithName("cainjector"))

	cfg, err := ctrl.GetConfig()
	if err != nil {
		fail("kubeconfig: %v", err)
	}
	cfg.UserAgent = "cert-manager-cainjector"

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(cmapi.AddToScheme(scheme))
	utilruntime.Must(admissionregistrationv1.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	utilruntime.Must(apiregistrationv1.AddToScheme(scheme))
	utilruntime.Must(corev1.AddToScheme(scheme))

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		// The injectors watch Secrets as metadata only and read the one they need when they
		// reconcile: that read must go to the API server, or a cache of full Secrets that lags
		// the metadata watch can hand out the previous CA and no later event corrects it.
		Client: client.Options{
			Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}},
		},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
	})
	if err != nil {
		fail("manager: %v", err)
	}
	ctx := ctrl.SetupSignalHandler()
	err = cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		Namespace:                    *namespace,
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   true,
			cainjector.ValidatingWebhookConfigurationName: true,
		},
	})
	if err != nil {
		fail("injectors: %v", err)
	}
	fmt.Fprintln(os.Stderr, "cainjector: running for mutating and validating webhook configurations")
	if err := mgr.Start(ctx); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cainjector: "+format+"\n", args...)
	os.Exit(2)
}
