package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallkiosk/hallkiosk/internal/config"
)

// TestDeploymentKey: the deployment's key file is used as it is and never made up; without
// one the node's own key is made once and kept, and said to be local.
func TestDeploymentKey(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Store.Path = filepath.Join(dir, "kioskd.db")

	own, local, err := deploymentKey(cfg)
	if err != nil || !local || len(own) != 32 {
		t.Fatalf("without a deployment key file: %d bytes, local %v, %v; want a 32-byte local key", len(own), local, err)
	}
	if again, _, _ := deploymentKey(cfg); !bytes.Equal(again, own) {
		t.Error("the node's own key changed between starts")
	}

	shared := bytes.Repeat([]byte{7}, 32)
	cfg.Uplink.DeploymentKeyFile = filepath.Join(dir, "deployment-shared.key")
	if _, _, err := deploymentKey(cfg); err == nil || !strings.Contains(err.Error(), "uplink.deployment_key_file") {
		t.Errorf("a missing deployment key file = %v; want an error naming uplink.deployment_key_file", err)
	}
	if _, err := os.Stat(cfg.Uplink.DeploymentKeyFile); err == nil {
		t.Error("a missing deployment key file was made up")
	}
	os.WriteFile(cfg.Uplink.DeploymentKeyFile, shared[:16], 0o600)
	if _, _, err := deploymentKey(cfg); err == nil || !strings.Contains(err.Error(), "16 bytes") {
		t.Errorf("a 16-byte deployment key = %v; want an error giving its size", err)
	}
	os.WriteFile(cfg.Uplink.DeploymentKeyFile, shared, 0o600)
	if key, local, err := deploymentKey(cfg); err != nil || local || !bytes.Equal(key, shared) {
		t.Errorf("with the deployment's key file: %x, local %v, %v; want its key, not local", key, local, err)
	}
}
