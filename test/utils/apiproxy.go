package utils

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// APIProxy is a reverse proxy in front of an API server that records every request
// passing through it. A process given the proxy's kubeconfig (WriteKubeconfig) talks to
// the API server through it, so a test can tell exactly what that process sent: which
// method, to which path. The proxy listens on plain HTTP on loopback and authenticates to
// the API server with the credentials of the rest.Config it was started with.
type APIProxy struct {
	// URL is http://127.0.0.1:PORT.
	URL string

	server *http.Server
	mu     sync.Mutex
	seen   []APIRequest
}

// APIRequest is one request the proxy passed on.
type APIRequest struct {
	Time   time.Time
	Method string
	// Path is the URL path, for example
	// /apis/serving.inferenceops.dev/v1alpha1/namespaces/ns/inferenceservices/iris/status.
	Path string
}

// IsWrite tells whether the request may change an object: POST, PUT, PATCH or DELETE.
func (r APIRequest) IsWrite() bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// Resource splits a path of the API into group ("" for the core group), resource, name
// and subresource, for example ("apps", "deployments", "iris", "") or
// ("serving.inferenceops.dev", "inferenceservices", "iris", "status"). ok is false for a
// path that names no resource (discovery, /healthz).
func (r APIRequest) Resource() (group, resource, name, subresource string, ok bool) {
	parts := strings.Split(strings.Trim(r.Path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api": // api/v1/...
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis": // apis/GROUP/VERSION/...
		group, parts = parts[1], parts[3:]
	default:
		return "", "", "", "", false
	}
	namespaceSubresource := len(parts) == 3 && (parts[2] == "status" || parts[2] == "finalize")
	if len(parts) >= 3 && parts[0] == "namespaces" && !namespaceSubresource {
		parts = parts[2:]
	}
	if len(parts) == 0 || len(parts) > 3 {
		return "", "", "", "", false
	}
	parts = append(parts, "", "")
	return group, parts[0], parts[1], parts[2], true
}

// StartAPIProxy starts a recording proxy to the API server of upstream on a loopback port
// the kernel picks.
func StartAPIProxy(upstream *rest.Config) (*APIProxy, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, fmt.Errorf("parsing the API server address %q: %w", upstream.Host, err)
	}
	transport, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &APIProxy{URL: "http://" + listener.Addr().String()}
	forward := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: transport,
		// Watches stream: pass every event on at once.
		FlushInterval: -1,
	}
	p.server = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.mu.Lock()
			p.seen = append(p.seen, APIRequest{Time: time.Now(), Method: r.Method, Path: r.URL.Path})
			p.mu.Unlock()
			forward.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = p.server.Serve(listener) }()
	return p, nil
}

// Requests returns the requests passed on so far, oldest first.
func (p *APIProxy) Requests() []APIRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

// WriteKubeconfig writes a kubeconfig that points at the proxy (no credentials: the proxy
// adds its own).
func (p *APIProxy) WriteKubeconfig(path string) error {
	const name = "proxy"
	config := clientcmdapi.NewConfig()
	config.Clusters[name] = &clientcmdapi.Cluster{Server: p.URL}
	config.AuthInfos[name] = &clientcmdapi.AuthInfo{}
	config.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	config.CurrentContext = name
	return clientcmd.WriteToFile(*config, path)
}

// Close stops the proxy and ends the requests in flight (watches).
func (p *APIProxy) Close() error {
	if err := p.server.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
