package config

import (
	"net"
	"net/url"
	"path/filepath"
	"time"
)

// Uplink is the connection to the central approval platform (shared/docs/UPLINK.md).
type Uplink struct {
	// EnrolmentFile holds the platform URL, node token and hall data written by
	// `kioskctl enrol` (mode 0600). Default: enrolment.json beside the store. Without it the
	// node is not enrolled: events wait in the outbox until it is.
	EnrolmentFile string `toml:"enrolment_file"`
	// CAFile is the platform's CA certificate (PEM): the only CA trusted for the platform's
	// HTTPS. Plain http is accepted only for a loopback platform.
	CAFile string `toml:"ca_file"`
	// DrainRate caps events per second sent after an outage, so a reconnecting hall never
	// floods the platform. Default 200.
	DrainRate float64 `toml:"drain_rate"`
	// PullInterval is how often config, catalogue, pickups and appointments are pulled.
	// Default "5m".
	PullInterval string `toml:"pull_interval"`
	// HeartbeatInterval is how often node.heartbeat is recorded. Default "60s".
	HeartbeatInterval string `toml:"heartbeat_interval"`
	// DocumentKeyFile holds the AES-256 key for certificates and materials at rest (32 bytes,
	// made at first start, mode 0600). Default: document.key beside the store.
	DocumentKeyFile string `toml:"document_key_file"`
	// DeploymentKeyFile holds the deployment key of id_hash (UPLINK.md: HMAC-SHA256 of ID
	// numbers), 32 bytes: one secret for the whole deployment, the same file on every node
	// and at the platform, provisioned with the node, never made here. Without it the node
	// hashes with a key of its own (deployment.key beside the store), so ID-card dedupe works
	// but the platform cannot match its people; kioskd says so in its health.
	DeploymentKeyFile string `toml:"deployment_key_file"`
}

func (u *Uplink) provision(storePath string) {
	dir := filepath.Dir(storePath)
	if u.EnrolmentFile == "" {
		u.EnrolmentFile = filepath.Join(dir, "enrolment.json")
	}
	if u.DocumentKeyFile == "" {
		u.DocumentKeyFile = filepath.Join(dir, "document.key")
	}
	if u.DrainRate == 0 {
		u.DrainRate = 200
	}
	if u.PullInterval == "" {
		u.PullInterval = "5m"
	}
	if u.HeartbeatInterval == "" {
		u.HeartbeatInterval = "60s"
	}
}

func (u *Uplink) validate(bad func(key, format string, args ...any)) {
	if u.DrainRate < 1 {
		bad("uplink.drain_rate", "%v: set events per second, at least 1, e.g. 200", u.DrainRate)
	}
	for key, v := range map[string]string{"uplink.pull_interval": u.PullInterval, "uplink.heartbeat_interval": u.HeartbeatInterval} {
		if d, err := time.ParseDuration(v); err != nil || d < time.Second {
			bad(key, "%q: set a duration of at least 1s, e.g. \"60s\"", v)
		}
	}
}

// Intervals returns uplink.pull_interval and uplink.heartbeat_interval (valid after Validate).
func (u Uplink) Intervals() (pull, heartbeat time.Duration) {
	pull, _ = time.ParseDuration(u.PullInterval)
	heartbeat, _ = time.ParseDuration(u.HeartbeatInterval)
	return pull, heartbeat
}

// LoopbackURL reports whether u is an http(s) URL on a loopback host.
func LoopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := p.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
