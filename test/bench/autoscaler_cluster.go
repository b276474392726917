package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Figure 7's API server differs from the others in two ways, both plain kube-apiserver
// flags:
//
//   - an audit log of the manager's write requests (its user, operatorUser; nobody
//     else's), which tells from outside the manager what it wrote: InferenceService
//     statuses, and any write to a Deployment, Service or HPA;
//   - a front proxy (request-header authentication), so that the API server's aggregator
//     can call the metrics adapter (an aggregated API server) as the caller: the HPA
//     controller reads external.metrics.k8s.io through it, as in a real cluster and as
//     in the simulated e2e cluster, where kwokctl sets the same flags.

// auditPolicy logs, at Metadata level (no bodies), every write of the manager's user and
// nothing else, so that the log stays small and costs the API server little.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: ["` + operatorUser + `"]
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`

// frontProxyClientName is the common name of the aggregator's client certificate.
const frontProxyClientName = "bench-front-proxy"

// autoscalerAPIServerFlags writes the audit policy and a front-proxy CA with the
// aggregator's client certificate under dir and returns the kube-apiserver flags that
// use them, and the audit log's path.
func autoscalerAPIServerFlags(dir string) (map[string]string, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, "", err
	}
	caCert, clientCert, clientKey, err := writeFrontProxyPKI(dir)
	if err != nil {
		return nil, "", fmt.Errorf("front-proxy certificates: %w", err)
	}
	auditLog := filepath.Join(dir, "audit.log")
	return map[string]string{
		"audit-policy-file":                  policy,
		"audit-log-path":                     auditLog,
		"audit-log-format":                   "json",
		"requestheader-client-ca-file":       caCert,
		"requestheader-allowed-names":        frontProxyClientName,
		"requestheader-username-headers":     "X-Remote-User",
		"requestheader-group-headers":        "X-Remote-Group",
		"requestheader-extra-headers-prefix": "X-Remote-Extra-",
		"proxy-client-cert-file":             clientCert,
		"proxy-client-key-file":              clientKey,
	}, auditLog, nil
}

// writeFrontProxyPKI writes a CA and a client certificate it signed for the aggregator.
func writeFrontProxyPKI(dir string) (caPath, certPath, keyPath string, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench-front-proxy-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return "", "", "", err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", "", "", err
	}
	clientKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	clientTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: frontProxyClientName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	clientDER, err := x509.CreateCertificate(rand.Reader, clientTemplate, ca, &clientKey.PublicKey, caKey)
	if err != nil {
		return "", "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(clientKey)
	if err != nil {
		return "", "", "", err
	}
	caPath, certPath, keyPath = filepath.Join(dir, "front-proxy-ca.crt"), filepath.Join(dir, "front-proxy-client.crt"), filepath.Join(dir, "front-proxy-client.key")
	for path, block := range map[string]*pem.Block{
		caPath:   {Type: "CERTIFICATE", Bytes: caDER},
		certPath: {Type: "CERTIFICATE", Bytes: clientDER},
		keyPath:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			return "", "", "", err
		}
	}
	return caPath, certPath, keyPath, nil
}

// freeLoopbackPort returns a TCP port nothing listens on at 127.0.0.1 (the kernel's
// choice; the adapter binds it a moment later).
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// metricsAdapter is hack/tools/cluster/metrics-adapter (sigs.k8s.io/custom-metrics-apiserver's
// test adapter with writable external metrics), the one the simulated e2e cluster runs,
// started as a local process and registered as external.metrics.k8s.io.
type metricsAdapter struct {
	process  *simProcess
	writeURL string
}

// startMetricsAdapter starts the adapter on two free loopback ports, with kubeconfig for
// its lister and its delegated authentication and authorization, and registers it as
// v1beta1.external.metrics.k8s.io behind an ExternalName Service to 127.0.0.1 (as
// hack/dev-cluster.sh does). It returns once the APIService is Available.
func startMetricsAdapter(ctx context.Context, c *cluster, path, kubeconfig, logDir string) (*metricsAdapter, error) {
	securePort, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	writePort, err := freeLoopbackPort()
	for err == nil && writePort == securePort {
		writePort, err = freeLoopbackPort()
	}
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(logDir, c.name+"-metrics-adapter-certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, err
	}
	p, err := startSimProcess("metrics-adapter", path, filepath.Join(logDir, c.name+"-metrics-adapter.log"), []string{
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(securePort), "--cert-dir=" + certDir,
		"--lister-kubeconfig=" + kubeconfig, "--authentication-kubeconfig=" + kubeconfig, "--authorization-kubeconfig=" + kubeconfig,
		"--write-address=127.0.0.1:" + strconv.Itoa(writePort),
	})
	if err != nil {
		return nil, err
	}
	a := &metricsAdapter{process: p, writeURL: "http://127.0.0.1:" + strconv.Itoa(writePort)}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "bench-metrics-adapter"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "127.0.0.1"},
	}
	if err := createIgnoringExisting(ctx, c.client, svc); err != nil {
		return a, fmt.Errorf("creating the adapter's Service: %w", err)
	}
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"spec": map[string]any{
			"group": "external.metrics.k8s.io", "version": "v1beta1",
			"service": map[string]any{"namespace": "kube-system", "name": svc.Name, "port": int64(securePort)},
			// The adapter serves a self-signed certificate; the traffic stays on loopback.
			"insecureSkipTLSVerify": true, "groupPriorityMinimum": int64(100), "versionPriority": int64(100),
		},
	}}
	apiService.SetName("v1beta1.external.metrics.k8s.io")
	if err := c.client.Create(ctx, apiService); err != nil && !apierrors.IsAlreadyExists(err) {
		return a, fmt.Errorf("registering the adapter's APIService: %w", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiregistration.k8s.io", Version: "v1", Kind: "APIService"})
		if err := c.client.Get(ctx, client.ObjectKey{Name: "v1beta1.external.metrics.k8s.io"}, got); err != nil {
			return a, err
		}
		conditions, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		message := "no condition yet"
		for _, cond := range conditions {
			m, _ := cond.(map[string]any)
			if m["type"] == "Available" {
				if m["status"] == "True" {
					return a, nil
				}
				message = fmt.Sprint(m["reason"], ": ", m["message"])
			}
		}
		select {
		case <-p.exited:
			return a, fmt.Errorf("the metrics adapter exited (%v); see its log under bin/bench/logs/", p.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return a, fmt.Errorf("APIService v1beta1.external.metrics.k8s.io not Available after 2 minutes (%s)", message)
		}
		if err := sleep(ctx, time.Second); err != nil {
			return a, err
		}
	}
}

// auditEvent is what figure 7 reads of an audit.k8s.io/v1 Event.
type auditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		APIGroup    string `json:"apiGroup"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestReceived time.Time `json:"requestReceivedTimestamp"`
}

// auditWrites counts the manager's write requests received in [from, to), by resource
// ("inferenceservices/status", "deployments", ...), from the audit log at path.
func auditWrites(path string, from, to time.Time) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	defer func() { _ = f.Close() }()
	counts := map[string]int{}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for scanner.Scan() {
		var ev auditEvent
		if err := json.Unmarshal(scanner.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("audit log %s: %w", path, err)
		}
		if ev.User.Username != operatorUser || ev.RequestReceived.Before(from) || !ev.RequestReceived.Before(to) {
			continue
		}
		resource := "(no object)"
		if ev.ObjectRef != nil {
			resource = ev.ObjectRef.Resource
			if ev.ObjectRef.Subresource != "" {
				resource += "/" + ev.ObjectRef.Subresource
			}
		}
		counts[resource]++
	}
	return counts, errors.Join(scanner.Err())
}
