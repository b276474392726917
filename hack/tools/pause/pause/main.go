// Command pause is the sandbox ("pause") process of every pod on the real local node: it
// holds the pod's namespaces open and blocks in pause(2) until SIGINT or SIGTERM, reaping
// any child that is re-parented to it (it is PID 1 when the pod shares its PID namespace).
// It is built static and packaged as an image by hack/real-node.sh, so no image is pulled.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	go func() {
		for s := range sigs {
			if s == syscall.SIGCHLD {
				for {
					var ws syscall.WaitStatus
					pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
					if pid <= 0 || err != nil {
						break
					}
				}
				continue
			}
			os.Exit(0)
		}
	}()
	for {
		// pause(2) returns only when a signal reaches this thread; the handler above
		// decides what a signal means, so simply wait again.
		_, _, _ = syscall.Syscall(syscall.SYS_PAUSE, 0, 0, 0)
	}
}
