package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunEnrolAndShutdown(t *testing.T) {
	dir := t.TempDir()
	codeFile := filepath.Join(dir, "code")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-listen", "127.0.0.1:0", "-db", filepath.Join(dir, "p.db"),
			"-enrol-code-file", codeFile, "-hall", "h1", "-log-format", "text", "-log-level", "error"}, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}
	code, err := os.ReadFile(codeFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(codeFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("code file mode %v; want 0600", fi.Mode().Perm())
	}
	body := `{"code":"` + strings.TrimSpace(string(code)) + `","node":"t1","hall":"h1"}`
	resp, err := http.Post("http://"+addr+"/v1/enrol", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Token string `json:"token"`
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got.Token == "" {
		t.Errorf("enrol with the written code: %d; want 200 with a token", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown 10s after cancel")
	}
}

func TestRefusesRemoteListen(t *testing.T) {
	err := run(context.Background(), []string{"-listen", "0.0.0.0:0", "-db", filepath.Join(t.TempDir(), "p.db")}, nil)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("run on 0.0.0.0: %v; want a loopback error", err)
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8090": true, "[::1]:1": true, "localhost:1": true,
		"0.0.0.0:8090": false, ":8090": false, "10.0.0.2:1": false, "nonsense": false} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v; want %v", addr, got, want)
		}
	}
}
