// Command platformsim runs the reference central platform of UPLINK.md on loopback, with
// fault injection switchable over /control/, for tests and `make run`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/logging"
	"github.com/hallkiosk/hallkiosk/internal/platformsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "platformsim:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends; ready, if not nil, receives the address once listening.
func run(ctx context.Context, args []string, ready chan<- string) error {
	fs := flag.NewFlagSet("platformsim", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8090", "address to serve /v1/ and /control/ on; /control/ has no authentication, so keep it on loopback")
	dbPath := fs.String("db", "var/platformsim.db", "SQLite file of the platform's own store")
	codeFile := fs.String("enrol-code-file", "", "if set, write a fresh one-time enrolment code to this file at start")
	hall := fs.String("hall", "sim-hall", "hall the code of -enrol-code-file enrols a node in")
	keyFile := fs.String("deployment-key-file", "", "the deployment's id_hash key (the file the nodes have as uplink.deployment_key_file); empty: the demo key")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "auto", "auto, json or text")
	allowRemote := fs.Bool("allow-remote", false, "allow -listen on a non-loopback address (exposes /control/)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := logging.New(os.Stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	if !*allowRemote && !loopback(*listen) {
		return fmt.Errorf("-listen %s is not a loopback address: /control/ would be open to the network; add -allow-remote if you mean it", *listen)
	}
	var key []byte
	if *keyFile != "" {
		if key, err = os.ReadFile(*keyFile); err != nil {
			return fmt.Errorf("-deployment-key-file: %w", err)
		}
	}
	sim, err := platformsim.Open(ctx, platformsim.Config{DBPath: *dbPath, Log: log, DeploymentKey: key})
	if err != nil {
		return err
	}
	defer sim.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if *codeFile != "" {
		if err := writeFileAtomic(*codeFile, []byte(sim.NewEnrolCode(*hall)+"\n")); err != nil {
			ln.Close()
			return fmt.Errorf("enrolment code: %w", err)
		}
		log.Info("enrolment code written", "file", *codeFile, "hall", *hall)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("platform simulator listening", "addr", ln.Addr().String(), "db", *dbPath)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		// Requests hanging under Faults.Hang never finish by themselves: cut them off.
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		srv.Close()
	}
	return nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeFileAtomic writes b to path through a synced temporary file and a rename, mode 0600:
// the code enrols a node, so only its owner may read it.
func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".enrol-code-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
