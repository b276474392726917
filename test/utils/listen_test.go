package utils

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestParseProcAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:A8F7":                         "127.0.0.1:43255",
		"00000000:1F90":                         "0.0.0.0:8080",
		"00000000000000000000000001000000:0050": "[::1]:80",
	} {
		g := NewWithT(t)
		got, err := parseProcAddr(in)
		g.Expect(err).NotTo(HaveOccurred(), in)
		g.Expect(got).To(Equal(want), in)
	}
	for _, bad := range []string{"", "0100007F", "01007F:0050", "0100007F:XYZ"} {
		_, err := parseProcAddr(bad)
		NewWithT(t).Expect(err).To(HaveOccurred(), bad)
	}
}

// A port-0 listener of this very process is found, and only the one that serves the path.
func TestWaitForHTTPAddr(t *testing.T) {
	g := NewWithT(t)
	served, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	other, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("up 1\n")) })
	go func() { _ = http.Serve(served, mux) }()
	go func() { _ = http.Serve(other, http.NotFoundHandler()) }()
	t.Cleanup(func() { _ = served.Close(); _ = other.Close() })

	addrs, err := ListeningAddrs(os.Getpid())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(addrs).To(ContainElements(served.Addr().String(), other.Addr().String()))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.Expect(WaitForHTTPAddr(ctx, os.Getpid(), "/metrics")).To(Equal(served.Addr().String()))

	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	_, err = WaitForHTTPAddr(short, os.Getpid(), "/nothing-serves-this")
	g.Expect(err).To(MatchError(ContainSubstring("serves no /nothing-serves-this")))
}
