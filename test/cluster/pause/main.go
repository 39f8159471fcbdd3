// The sandbox ("pause") image of the real node: holds a pod's namespaces open, sleeps, and exits on
// SIGTERM or SIGINT. The upstream image cannot be pulled here (no registry), so the harness builds this.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
}
