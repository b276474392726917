package utils

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A process started with --metrics-bind-address=127.0.0.1:0 (or any other address with
// port 0) gets a free port from the kernel when it binds, so no other process can take the
// port between the choice and the bind, as it could when a test picks a free port, closes
// it and passes it on. controller-runtime logs the bound address of the health probe and
// pprof servers, but only the configured one of the metrics server ("127.0.0.1:0"), so the
// address is read where the kernel reports it: /proc.

// ListeningAddrs returns the TCP addresses ("127.0.0.1:43127") the process pid listens on,
// from /proc/PID/fd (its sockets) and /proc/PID/net/tcp and tcp6 (the sockets of its
// network namespace). Linux only, like the suites that start processes.
func ListeningAddrs(pid int) ([]string, error) {
	procDir := filepath.Join("/proc", strconv.Itoa(pid))
	fds, err := os.ReadDir(filepath.Join(procDir, "fd"))
	if err != nil {
		return nil, fmt.Errorf("listing the files of process %d: %w", pid, err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(procDir, "fd", fd.Name()))
		if err != nil {
			continue // closed since the listing
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	var addrs []string
	for _, table := range []string{"tcp", "tcp6"} {
		content, err := os.ReadFile(filepath.Join(procDir, "net", table))
		if os.IsNotExist(err) {
			continue // no IPv6
		}
		if err != nil {
			return nil, err
		}
		found, err := listeningSockets(string(content), inodes)
		if err != nil {
			return nil, fmt.Errorf("/proc/%d/net/%s: %w", pid, table, err)
		}
		addrs = append(addrs, found...)
	}
	return addrs, nil
}

// tcpListen is the state of a listening socket in /proc/net/tcp (TCP_LISTEN).
const tcpListen = "0A"

// listeningSockets returns the local addresses of the sockets of table (the text of
// /proc/net/tcp or tcp6) that listen and whose inode is in inodes.
func listeningSockets(table string, inodes map[string]bool) ([]string, error) {
	var addrs []string
	lines := strings.Split(table, "\n")
	for _, line := range lines[1:] { // the first line names the columns
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
		fields := strings.Fields(line)
		if len(fields) < 10 || fields[3] != tcpListen || !inodes[fields[9]] {
			continue
		}
		addr, err := parseProcAddr(fields[1])
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, addr)
	}
	return addrs, nil
}

// parseProcAddr turns "0100007F:A8F7" into "127.0.0.1:43255". The kernel prints the
// address as 32-bit words in host byte order, little endian on amd64 and arm64, and the
// port in hex.
func parseProcAddr(s string) (string, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	raw, err := hex.DecodeString(hexIP)
	if !ok || err != nil || (len(raw) != net.IPv4len && len(raw) != net.IPv6len) {
		return "", fmt.Errorf("unexpected socket address %q", s)
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return "", fmt.Errorf("unexpected port in %q: %w", s, err)
	}
	ip := make(net.IP, len(raw))
	for word := 0; word < len(raw); word += 4 {
		for i := range 4 {
			ip[word+i] = raw[word+3-i]
		}
	}
	return net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10)), nil
}

// WaitForHTTPAddr waits until the process pid listens on an address that answers an HTTP
// GET of path with 200 OK, and returns that address. It is how a test finds the metrics
// (path /metrics, served over plain HTTP) or pprof (/debug/pprof/) endpoint of a manager
// it started with port 0. It gives up when ctx ends or the process is gone.
func WaitForHTTPAddr(ctx context.Context, pid int, path string) (string, error) {
	client := &http.Client{Timeout: time.Second}
	var lastErr error
	for {
		addrs, err := ListeningAddrs(pid)
		if err != nil {
			// Gone: no address will ever come.
			return "", err
		}
		for _, addr := range addrs {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
			if err != nil {
				return "", err
			}
			resp, err := client.Do(req)
			if err != nil {
				lastErr = err
				continue
			}
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr, nil
			}
			lastErr = fmt.Errorf("GET http://%s%s: %s", addr, path, resp.Status)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("process %d serves no %s on any of %v (last: %v): %w", pid, path, addrs, lastErr, context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
