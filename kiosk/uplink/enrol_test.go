package uplink

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/platformsim"
	"github.com/hallkiosk/hallkiosk/internal/testlog"
)

func TestCheckPlatformURL(t *testing.T) {
	for _, tc := range []struct {
		u  string
		ok bool
	}{
		{"https://platform.example.gov.cn", true},
		{"https://10.1.2.3:8443/api", true},
		{"http://127.0.0.1:8090", true},
		{"http://localhost:8090", true},
		{"http://[::1]:8090", true},
		{"http://platform.example.gov.cn", false},
		{"http://10.1.2.3:8090", false},
		{"http://127.0.0.1.nip.io", false},
		{"ftp://127.0.0.1", false},
		{"https://user:pw@platform.example.gov.cn", false},
		{"https://platform.example.gov.cn/?x=1", false},
		{"platform.example.gov.cn", false},
		{"", false},
	} {
		if err := CheckPlatformURL(tc.u); (err == nil) != tc.ok {
			t.Errorf("CheckPlatformURL(%q) = %v; want ok %v", tc.u, err, tc.ok)
		}
	}
}

func TestEnrolmentHidesToken(t *testing.T) {
	tok := "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928"
	e := Enrolment{Token: tok, HallName: "西湖区政务服务中心", Timezone: "Asia/Shanghai"}
	var sink testlog.Sink
	log := sink.Logger()
	log.Info("enrolled", "enrolment", e)
	log.Info("enrolled", slog.Any("e", e), "s", e.String())
	fmt.Fprintf(&sink, "%v %s %+v\n", e, e, e)
	out := string(sink.Bytes())
	if strings.Contains(out, tok[:8]) || !strings.Contains(out, "9f8…") || !strings.Contains(out, "西湖区") {
		t.Fatalf("token shown, or the enrolment not:\n%s", out)
	}
	if got := enrolHideToken("short"); got != "…" {
		t.Errorf("enrolHideToken(short) = %q", got)
	}
}

func TestSaveLoadEnrolment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "enrolment.json")
	e := Enrolment{Token: "tok-0123456789abcdef", HallName: "大厅", Timezone: "Asia/Shanghai"}
	if err := SaveEnrolment(path, e, "http://127.0.0.1:8090"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("enrolment file mode = %v, %v; want 0600", st.Mode(), err)
	}
	got, platform, err := LoadEnrolment(path)
	if err != nil || got != e || platform != "http://127.0.0.1:8090" {
		t.Fatalf("LoadEnrolment = %v, %q, %v", got, platform, err)
	}
	// Replacing it leaves no temporary files behind.
	e.Token = "tok-fedcba9876543210"
	if err := SaveEnrolment(path, e, "https://platform.example.gov.cn"); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("directory holds %d entries after two saves; want 1", len(ents))
	}
	if got, platform, _ := LoadEnrolment(path); got.Token != e.Token || platform != "https://platform.example.gov.cn" {
		t.Fatalf("after the second save: %v %q", got, platform)
	}
	if err := SaveEnrolment(path, e, "http://platform.example.gov.cn"); err == nil {
		t.Fatal("SaveEnrolment accepted plain http to a remote host")
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadEnrolment(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("LoadEnrolment of a world-readable file = %v", err)
	}
}

func TestEnrolAnswers(t *testing.T) {
	var seen map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&seen)
		if seen["code"] != "GOOD-CODE" || r.Header.Get("Authorization") != "" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error": {"code": "bad_code", "message": "unknown or already used"}}`))
			return
		}
		w.Write([]byte(`{"token": "tok-abcdefghijklmnop", "hall_name": "大厅", "timezone": "Asia/Shanghai"}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	e, err := Enrol(ctx, srv.URL, " GOOD-CODE ", "n1", "h1", map[string]any{"printer": "ok"}, nil)
	if err != nil || e.Token != "tok-abcdefghijklmnop" || e.HallName != "大厅" {
		t.Fatalf("Enrol = %v, %v", e, err)
	}
	if seen["node"] != "n1" || seen["hall"] != "h1" || seen["inventory"].(map[string]any)["printer"] != "ok" {
		t.Fatalf("platform saw %v", seen)
	}
	_, err = Enrol(ctx, srv.URL, "BAD", "n1", "h1", nil, nil)
	if !errors.Is(err, ErrEnrolCode) || !strings.Contains(err.Error(), "enrolment code unknown or already used") {
		t.Fatalf("Enrol with a bad code = %v", err)
	}
	if _, err := Enrol(ctx, "http://192.0.2.1:80", "GOOD-CODE", "n1", "h1", nil, nil); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("Enrol over plain http to a remote host = %v", err)
	}
}

func TestHTTPClientPinsCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"token": "tok-abcdefghijklmnop", "hall_name": "大厅", "timezone": "Asia/Shanghai"}`))
	}))
	defer srv.Close()
	// httptest's servers all share one certificate: make another CA by hand.
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	otherDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeCA := func(name string, der []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
		return p
	}
	good, bad := writeCA("good.pem", srv.Certificate().Raw), writeCA("bad.pem", otherDER)

	hc, err := HTTPClient(good, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with the pinned CA: %v", err)
	}
	resp.Body.Close()
	hc, _ = HTTPClient(bad, 5*time.Second)
	if _, err := hc.Get(srv.URL); err == nil {
		t.Fatal("GET succeeded with another CA pinned")
	}
	if _, err := HTTPClient(filepath.Join(dir, "missing.pem"), time.Second); err == nil {
		t.Fatal("HTTPClient with a missing CA file succeeded")
	}
	os.WriteFile(filepath.Join(dir, "empty.pem"), []byte("not pem"), 0o600)
	if _, err := HTTPClient(filepath.Join(dir, "empty.pem"), time.Second); err == nil {
		t.Fatal("HTTPClient with a file without certificates succeeded")
	}
	// https with no CA pinned is refused before anything is sent: the code stays unspent.
	if _, err := Enrol(context.Background(), srv.URL, "C", "n1", "h1", nil, nil); !errors.Is(err, ErrNotPinned) {
		t.Errorf("Enrol over https with no CA = %v; want %v", err, ErrNotPinned)
	}
	if err := CheckPinned(srv.URL, ""); !errors.Is(err, ErrNotPinned) {
		t.Errorf("CheckPinned(https, no CA) = %v; want %v", err, ErrNotPinned)
	}
	if err := CheckPinned(srv.URL, good); err != nil {
		t.Errorf("CheckPinned(https, CA) = %v", err)
	}
	if err := CheckPinned("http://127.0.0.1:8090", ""); err != nil {
		t.Errorf("CheckPinned(loopback http) = %v", err)
	}
	pool, _ := LoadCA(good)
	if e, err := Enrol(context.Background(), srv.URL, "C", "n1", "h1", nil, pool); err != nil || e.HallName != "大厅" {
		t.Fatalf("Enrol over pinned TLS = %v, %v", e, err)
	}
}

// pullSim starts the reference platform on loopback.
func pullSim(t testing.TB) (*platformsim.Sim, *httptest.Server) {
	t.Helper()
	sim, err := platformsim.Open(context.Background(), platformsim.Config{DBPath: filepath.Join(t.TempDir(), "platform.db")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return sim, srv
}

func TestEnrolAgainstPlatformsim(t *testing.T) {
	sim, srv := pullSim(t)
	code := sim.NewEnrolCode("hall-0571-01")
	var sink testlog.Sink
	log := sink.Logger()
	ctx := context.Background()

	e, err := Enrol(ctx, srv.URL, code, "hall-0571-01-t03", "hall-0571-01", map[string]any{"devices": []string{"idcard"}}, nil)
	if err != nil || e.Token == "" || e.HallName == "" {
		t.Fatalf("Enrol = %v, %v", e, err)
	}
	log.Info("uplink: enrolled", "enrolment", e)
	log.Info("uplink: enrolled " + e.String())
	path := filepath.Join(t.TempDir(), "enrolment.json")
	if err := SaveEnrolment(path, e, srv.URL); err != nil {
		t.Fatal(err)
	}

	// The code is one-time.
	_, err = Enrol(ctx, srv.URL, code, "hall-0571-01-t04", "hall-0571-01", nil, nil)
	if !errors.Is(err, ErrEnrolCode) {
		t.Fatalf("second Enrol with the same code = %v; want ErrEnrolCode", err)
	}
	log.Info("uplink: enrolment failed", "err", err)

	// The token works: a pull with it succeeds.
	loaded, platform, err := LoadEnrolment(path)
	if err != nil {
		t.Fatal(err)
	}
	r := newPullRig(t, platform, nil)
	r.p.c.Client.Token = loaded.Token
	if changed, err := r.p.PullConfig(ctx); !changed || err != nil {
		t.Fatalf("PullConfig with the new token = %v, %v", changed, err)
	}
	if out := string(sink.Bytes()) + string(r.logs.Bytes()); strings.Contains(out, e.Token) || strings.Contains(out, e.Token[:8]) {
		t.Fatalf("the token reached the logs:\n%s", out)
	}
}
