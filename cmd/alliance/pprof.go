//go:build pprof

// Profiling for performance work, never in a release build: built with
// -tags pprof, the binary serves net/http/pprof on ALLIANCE_PPROF_ADDR
// (a loopback address such as 127.0.0.1:6060) beside the API.
//
//	go build -tags pprof -o /tmp/alliance ./cmd/alliance
//	ALLIANCE_PPROF_ADDR=127.0.0.1:6060 /tmp/alliance serve …
//	go tool pprof -top http://127.0.0.1:6060/debug/pprof/profile?seconds=10
package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
)

func init() {
	addr := os.Getenv("ALLIANCE_PPROF_ADDR")
	if addr == "" {
		return
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(os.Stderr, "alliance: ALLIANCE_PPROF_ADDR must be a loopback host:port; not serving pprof")
		return
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
