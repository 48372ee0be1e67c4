// Command etcd runs a single-member embedded etcd (go.etcd.io/etcd/server/v3/embed)
// for the local control plane. It serves until SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	name := flag.String("name", "default", "member name")
	dataDir := flag.String("data-dir", "", "data directory (required)")
	clientURL := flag.String("listen-client-url", "http://127.0.0.1:2379", "client URL to listen on and advertise")
	peerURL := flag.String("listen-peer-url", "http://127.0.0.1:2380", "peer URL to listen on and advertise")
	logLevel := flag.String("log-level", "warn", "debug, info, warn, error")
	noFsync := flag.Bool("unsafe-no-fsync", false, "disable fsync (faster, loses data on crash; for throwaway clusters)")
	readyTimeout := flag.Duration("ready-timeout", 60*time.Second, "how long to wait for the server to become ready")
	flag.Parse()

	if *dataDir == "" {
		fail("--data-dir is required")
	}
	cu, err := url.Parse(*clientURL)
	if err != nil {
		fail("bad --listen-client-url: %v", err)
	}
	pu, err := url.Parse(*peerURL)
	if err != nil {
		fail("bad --listen-peer-url: %v", err)
	}

	cfg := embed.NewConfig()
	cfg.Name = *name
	cfg.Dir = *dataDir
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = *logLevel
	cfg.LogOutputs = []string{"stderr"}
	cfg.UnsafeNoFsync = *noFsync
	// NewConfig leaves this at 0 (only the etcd flag set defaults it), which
	// would log "request stats" for every single request.
	cfg.WarningUnaryRequestDuration = embed.DefaultWarningUnaryRequestDuration

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fail("start etcd: %v", err)
	}

	select {
	case <-e.Server.ReadyNotify():
		fmt.Fprintf(os.Stderr, "etcd ready: client %s peer %s data-dir %s\n", cu, pu, *dataDir)
	case err := <-e.Err():
		e.Close()
		fail("etcd failed before ready: %v", err)
	case <-time.After(*readyTimeout):
		e.Server.Stop()
		e.Close()
		fail("etcd not ready after %s", *readyTimeout)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	code := 0
	select {
	case s := <-sigs:
		fmt.Fprintf(os.Stderr, "etcd: got %s, shutting down\n", s)
	case err := <-e.Err():
		fmt.Fprintf(os.Stderr, "etcd: server error: %v\n", err)
		code = 1
	case <-e.Server.StopNotify():
		fmt.Fprintln(os.Stderr, "etcd: server stopped")
		code = 1
	}
	e.Close()
	os.Exit(code)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "etcd: "+format+"\n", args...)
	os.Exit(1)
}
