package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hallkiosk/hallkiosk/internal/config"
)

// deploymentKey is the key of id_hash: the deployment's, from uplink.deployment_key_file,
// which must exist; without one, local is true and the key is this node's own, made at
// first use beside the store.
func deploymentKey(cfg *config.Config) (key []byte, local bool, err error) {
	if f := cfg.Uplink.DeploymentKeyFile; f != "" {
		if key, err = os.ReadFile(f); err != nil {
			return nil, false, fmt.Errorf("uplink.deployment_key_file: %w (copy the deployment's key file here)", err)
		}
		if len(key) != 32 {
			return nil, false, fmt.Errorf("uplink.deployment_key_file %s is %d bytes; want the deployment's 32-byte key", f, len(key))
		}
		return key, false, nil
	}
	key, err = loadKeyFile(filepath.Join(filepath.Dir(cfg.Store.Path), "deployment.key"))
	if err != nil {
		return nil, true, fmt.Errorf("deployment key: %w", err)
	}
	return key, true, nil
}
