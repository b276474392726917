package utils

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func TestAPIRequestResource(t *testing.T) {
	type parsed struct{ group, resource, name, subresource string }
	for path, want := range map[string]parsed{
		"/apis/serving.inferenceops.dev/v1alpha1/namespaces/ns/inferenceservices/iris/status": {"serving.inferenceops.dev", "inferenceservices", "iris", "status"},
		"/apis/serving.inferenceops.dev/v1alpha1/namespaces/ns/inferenceservices/iris":        {"serving.inferenceops.dev", "inferenceservices", "iris", ""},
		"/apis/serving.inferenceops.dev/v1alpha1/namespaces/ns/inferenceservices":             {"serving.inferenceops.dev", "inferenceservices", "", ""},
		"/apis/serving.inferenceops.dev/v1alpha1/inferenceservices":                           {"serving.inferenceops.dev", "inferenceservices", "", ""},
		"/apis/apps/v1/namespaces/ns/deployments/iris":                                        {"apps", "deployments", "iris", ""},
		"/api/v1/namespaces/ns/services/iris":                                                 {"", "services", "iris", ""},
		"/api/v1/namespaces/ns":                                                               {"", "namespaces", "ns", ""},
		"/api/v1/namespaces/ns/status":                                                        {"", "namespaces", "ns", "status"},
	} {
		group, resource, name, subresource, ok := APIRequest{Path: path}.Resource()
		g := NewWithT(t)
		g.Expect(ok).To(BeTrue(), path)
		g.Expect(parsed{group, resource, name, subresource}).To(Equal(want), path)
	}
	for _, path := range []string{"/healthz", "/apis", "/apis/apps/v1", "/version"} {
		_, _, _, _, ok := APIRequest{Path: path}.Resource()
		NewWithT(t).Expect(ok).To(BeFalse(), path)
	}
}

// A client using the proxy's kubeconfig reaches the upstream server, and the proxy
// records each request.
func TestAPIProxy(t *testing.T) {
	g := NewWithT(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path)
	}))
	defer upstream.Close()
	proxy, err := StartAPIProxy(&rest.Config{Host: upstream.URL})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { g.Expect(proxy.Close()).To(Succeed()) }()

	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	g.Expect(proxy.WriteKubeconfig(kubeconfig)).To(Succeed())
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(config.Host).To(Equal(proxy.URL))

	req, err := http.NewRequest(http.MethodPatch, config.Host+"/apis/apps/v1/namespaces/ns/deployments/iris", nil)
	g.Expect(err).NotTo(HaveOccurred())
	resp, err := http.DefaultClient.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	g.Expect(string(body)).To(Equal("PATCH /apis/apps/v1/namespaces/ns/deployments/iris"))

	seen := proxy.Requests()
	g.Expect(seen).To(HaveLen(1))
	g.Expect(seen[0].Method).To(Equal(http.MethodPatch))
	g.Expect(seen[0].IsWrite()).To(BeTrue())
	g.Expect(APIRequest{Method: http.MethodGet}.IsWrite()).To(BeFalse())
}
