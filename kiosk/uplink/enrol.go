package uplink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Enrolment is what the platform hands a node for its one-time enrolment code. The token
// is a secret: String and LogValue never show more than its first three characters and
// its length class, so printing or logging an Enrolment is safe.
type Enrolment struct {
	Token    string `json:"token"`
	HallName string `json:"hall_name"`
	Timezone string `json:"timezone"`
}

// String shows the enrolment with the token hidden.
func (e Enrolment) String() string {
	return fmt.Sprintf("enrolment{hall %q, timezone %s, token %s}", e.HallName, e.Timezone, enrolHideToken(e.Token))
}

// LogValue shows the enrolment with the token hidden.
func (e Enrolment) LogValue() slog.Value {
	return slog.GroupValue(slog.String("hall_name", e.HallName), slog.String("timezone", e.Timezone),
		slog.String("token", enrolHideToken(e.Token)))
}

// enrolHideToken keeps at most 4 characters of a token ("tok…" for "tok1234567..."): enough to
// tell two tokens apart on a technician's screen, nothing to replay.
func enrolHideToken(t string) string {
	switch r := []rune(t); {
	case len(r) == 0:
		return "(none)"
	case len(r) < 16:
		return "…" // too short to show any of it
	default:
		return string(r[:3]) + "…"
	}
}

// ErrEnrolCode is the platform's 401 to an enrolment: the code is wrong, expired or spent.
var ErrEnrolCode = errors.New("uplink: enrolment code unknown or already used: ask the platform operator for a new one")

// Enrol trades a one-time enrolment code for the node's token (POST /v1/enrol). base is
// the platform's URL (see CheckPlatformURL); ca pins the platform's CA, required for https
// (UPLINK.md: the node pins the platform's CA from its config). The code is spent by a
// successful call: save the result at once with SaveEnrolment.
func Enrol(ctx context.Context, base, code, node, hall string, inventory map[string]any, ca *x509.CertPool) (Enrolment, error) {
	if err := CheckPlatformURL(base); err != nil {
		return Enrolment{}, err
	}
	if ca == nil && strings.HasPrefix(base, "https:") {
		return Enrolment{}, ErrNotPinned
	}
	switch {
	case strings.TrimSpace(code) == "":
		return Enrolment{}, errors.New("uplink: enrol: the enrolment code is empty")
	case node == "" || hall == "":
		return Enrolment{}, errors.New("uplink: enrol: node and hall ids are required")
	}
	if inventory == nil {
		inventory = map[string]any{}
	}
	c := &Client{Base: base, Node: node, HTTP: enrolHTTPClient(ca, 30*time.Second)}
	body := map[string]any{"code": strings.TrimSpace(code), "node": node, "hall": hall, "inventory": inventory}
	var e Enrolment
	err := c.JSON(ctx, http.MethodPost, "/v1/enrol", body, &e)
	switch {
	case errors.Is(err, ErrUnauthorized):
		return Enrolment{}, ErrEnrolCode
	case err != nil:
		return Enrolment{}, fmt.Errorf("uplink: enrol at %s: %w", base, err)
	case e.Token == "":
		return Enrolment{}, fmt.Errorf("uplink: enrol at %s: the answer has no token", base)
	}
	if e.Timezone == "" {
		e.Timezone = "Asia/Shanghai" // the contract's example and the only zone of the country
	}
	if _, err := time.LoadLocation(e.Timezone); err != nil {
		return Enrolment{}, fmt.Errorf("uplink: enrol at %s: the answer's timezone %q is unknown: %v", base, e.Timezone, err)
	}
	return e, nil
}

// enrolFile is SaveEnrolment's file format.
type enrolFile struct {
	Platform string    `json:"platform"`
	Token    string    `json:"token"`
	HallName string    `json:"hall_name"`
	Timezone string    `json:"timezone"`
	SavedAt  time.Time `json:"saved_at"`
}

// SaveEnrolment writes the enrolment and the platform's URL to path as JSON with mode 0600,
// atomically: a temporary file in the same directory, Sync, rename, then a sync of the
// directory. A crash leaves either the old file or the new one, never half of one.
func SaveEnrolment(path string, e Enrolment, platform string) error {
	if err := CheckPlatformURL(platform); err != nil {
		return err
	}
	data, err := json.MarshalIndent(enrolFile{Platform: platform, Token: e.Token, HallName: e.HallName,
		Timezone: e.Timezone, SavedAt: time.Now().UTC()}, "", "  ")
	if err != nil {
		return fmt.Errorf("uplink: enrolment file: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("uplink: enrolment file: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("uplink: enrolment file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("uplink: enrolment file: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("uplink: enrolment file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("uplink: enrolment file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("uplink: enrolment file %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("uplink: enrolment file %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// LoadEnrolment reads a file written by SaveEnrolment and returns the enrolment and the
// platform's URL. A file others can read is refused: the token in it is the node's
// identity.
func LoadEnrolment(path string) (Enrolment, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Enrolment{}, "", fmt.Errorf("uplink: enrolment file: %w (enrol the node first: kioskctl enrol --platform URL --code CODE)", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return Enrolment{}, "", fmt.Errorf("uplink: enrolment file %s has mode %v: it holds the node's token; run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Enrolment{}, "", fmt.Errorf("uplink: enrolment file: %w", err)
	}
	var f enrolFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Enrolment{}, "", fmt.Errorf("uplink: enrolment file %s is not JSON of the expected shape: %v", path, err)
	}
	if f.Token == "" || f.Platform == "" {
		return Enrolment{}, "", fmt.Errorf("uplink: enrolment file %s has no token or platform: enrol the node again", path)
	}
	if err := CheckPlatformURL(f.Platform); err != nil {
		return Enrolment{}, "", fmt.Errorf("uplink: enrolment file %s: %w", path, err)
	}
	return Enrolment{Token: f.Token, HallName: f.HallName, Timezone: f.Timezone}, f.Platform, nil
}

// CheckPlatformURL accepts an https URL with a host, or a plain http URL only when the host
// is loopback (the embedded platformsim); the token and personal data never cross a
// network in clear.
func CheckPlatformURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("uplink: platform URL %q: %v", u, err)
	}
	switch {
	case p.Host == "" || p.Hostname() == "":
		return fmt.Errorf("uplink: platform URL %q has no host: use e.g. https://platform.example.gov.cn", u)
	case p.User != nil:
		return fmt.Errorf("uplink: platform URL %q carries credentials: remove them, the node authenticates with its token", p.Redacted())
	case p.RawQuery != "" || p.Fragment != "":
		return fmt.Errorf("uplink: platform URL %q has a query or fragment: give only scheme, host and an optional path", u)
	case p.Scheme == "https":
		return nil
	case p.Scheme == "http":
		if enrolLoopback(p.Hostname()) {
			return nil
		}
		return fmt.Errorf("uplink: platform URL %q uses plain http to a host that is not loopback: use https", u)
	default:
		return fmt.Errorf("uplink: platform URL %q: the scheme must be https (or http for loopback)", u)
	}
}

func enrolLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ErrNotPinned is an https platform with no CA to pin.
var ErrNotPinned = errors.New("uplink: the platform's CA is not pinned: set uplink.ca_file to the platform's CA certificate (PEM)")

// CheckPinned refuses an https platform without caFile: UPLINK.md has the node pin the
// platform's CA from its config, never trust the system roots for it.
func CheckPinned(platform, caFile string) error {
	if caFile == "" && strings.HasPrefix(platform, "https:") {
		return ErrNotPinned
	}
	return nil
}

// LoadCA reads PEM certificates from file into a pool that holds only them.
func LoadCA(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("uplink: platform CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("uplink: platform CA %s holds no PEM certificate", file)
	}
	return pool, nil
}

// HTTPClient returns the client for the platform: TLS 1.2 or newer trusting only the CA
// certificates in caFile (the platform's CA, pinned), no redirects (a redirect is an
// answer the contract does not have), and timeout for a whole exchange. caFile "" trusts
// the system roots, for loopback http and tests only.
func HTTPClient(caFile string, timeout time.Duration) (*http.Client, error) {
	var pool *x509.CertPool
	if caFile != "" {
		var err error
		if pool, err = LoadCA(caFile); err != nil {
			return nil, err
		}
	}
	return enrolHTTPClient(pool, timeout), nil
}

func enrolHTTPClient(pool *x509.CertPool, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
