package cluster

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"strconv"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ContextName is the kubeconfig context Up writes.
const ContextName = "trimtab-local"

// writeKubeconfig writes the admin kubeconfig with the PKI embedded, so it
// keeps working if copied elsewhere on this machine.
func (c Config) writeKubeconfig() error {
	pk := pki{c.path("pki")}
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(pk.file(name))
		if err != nil {
			return nil, fmt.Errorf("reading %s for the kubeconfig: %w", name, err)
		}
		return b, nil
	}
	ca, err := read("ca.crt")
	if err != nil {
		return err
	}
	cert, err := read("admin.crt")
	if err != nil {
		return err
	}
	key, err := read("admin.key")
	if err != nil {
		return err
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters[ContextName] = &clientcmdapi.Cluster{
		Server:                   "https://127.0.0.1:" + strconv.Itoa(c.APIServerPort),
		CertificateAuthorityData: ca,
	}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
	kc.Contexts[ContextName] = &clientcmdapi.Context{Cluster: ContextName, AuthInfo: "admin", Namespace: "default"}
	kc.CurrentContext = ContextName
	return clientcmd.WriteToFile(*kc, c.Kubeconfig())
}

// insecureLoopbackClient talks to the controller-manager's and scheduler's
// health endpoints, whose certificates are self-signed at start-up.
var insecureLoopbackClient = &http.Client{Transport: &http.Transport{
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health probe of a process we started
}}
