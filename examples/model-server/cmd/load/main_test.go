package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// TestRunBoundedNewConnectionPerRequest: the run stops at --requests, every request comes
// on a connection of its own (so kube-proxy can send it to a new pod), and answers are
// counted by status.
func TestRunBoundedNewConnectionPerRequest(t *testing.T) {
	g := NewWithT(t)
	var requests, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if n := requests.Add(1); n%10 == 0 || !strings.Contains(string(body), `"name":"input"`) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"outputs":[]}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	var out strings.Builder
	s := run(context.Background(), config{url: srv.URL, body: irisRequest, concurrency: 4, requests: 50,
		duration: time.Minute, timeout: 5 * time.Second, report: time.Hour}, &out)

	g.Expect(requests.Load()).To(BeEquivalentTo(50))
	g.Expect(conns.Load()).To(BeEquivalentTo(50), "one connection per request")
	g.Expect(s.total).To(BeEquivalentTo(50))
	g.Expect(s.ok).To(BeEquivalentTo(45))
	g.Expect(s.codes).To(Equal(map[string]int64{"200": 45, "503": 5}))
	g.Expect(out.String()).To(ContainSubstring("load: done:"))
	g.Expect(out.String()).To(ContainSubstring("codes 200:45 503:5"))
}

// TestRunStopsAtDuration: a run is bounded in time even when the server is slow.
func TestRunStopsAtDuration(t *testing.T) {
	g := NewWithT(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(50 * time.Millisecond):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()

	start := time.Now()
	s := run(context.Background(), config{url: srv.URL, concurrency: 2, requests: 1 << 40,
		duration: 300 * time.Millisecond, timeout: time.Second, report: 100 * time.Millisecond}, io.Discard)
	g.Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
	g.Expect(s.ok).To(BeNumerically(">", 0))
	g.Expect(s.codes).NotTo(HaveKey("stopped"), "requests cut short by the end are not counted")
}
