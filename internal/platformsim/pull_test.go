package platformsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

// checkETag fetches path, then asks again with its ETag and expects 304.
func checkETag(t *testing.T, f *fixture, path string) answer {
	t.Helper()
	a := f.must(t, "GET", path, f.token, nil)
	etag := a.header.Get("ETag")
	if a.status != http.StatusOK || etag == "" || !json.Valid(a.body) {
		t.Fatalf("GET %s: %v, ETag %q; want 200 JSON with an ETag", path, a, etag)
	}
	if b := f.must(t, "GET", path, f.token, nil, "If-None-Match", etag); b.status != http.StatusNotModified || len(b.body) != 0 {
		t.Errorf("GET %s If-None-Match %s: %v; want 304 without a body", path, etag, b)
	}
	if b := f.must(t, "GET", path, f.token, nil, "If-None-Match", `"stale"`); b.status != http.StatusOK {
		t.Errorf("GET %s with a stale ETag: %d; want 200", path, b.status)
	}
	return a
}

func TestConfigETag(t *testing.T) {
	f := newFixture(t)
	path := "/v1/nodes/" + testNode + "/config"
	a := checkETag(t, f, path)
	var c hallConfig
	if err := json.Unmarshal(a.body, &c); err != nil || c.HallName == "" || len(c.Categories) == 0 || len(c.Windows) == 0 ||
		len(c.ScreenTexts) == 0 || c.Profiles[testNode] == "" || c.Categories[0].Open != "" || c.Categories[1].Open == "" {
		t.Errorf("config = %+v, %v; want hall name, categories (A open all day, B with hours), windows, texts, profiles", c, err)
	}
	// A pushed config (here a broken one) is served as is, under a new ETag.
	if p := f.must(t, "PUT", "/control/nodes/"+testNode+"/config", "", `{"categories": [`); p.status != http.StatusNoContent {
		t.Fatalf("PUT config: %v", p)
	}
	b := f.must(t, "GET", path, f.token, nil, "If-None-Match", a.header.Get("ETag"))
	if b.status != http.StatusOK || string(b.body) != `{"categories": [` || b.header.Get("ETag") == a.header.Get("ETag") {
		t.Errorf("after PUT: %v ETag %q; want the new body under a new ETag", b, b.header.Get("ETag"))
	}
	if a := f.must(t, "GET", "/v1/nodes/n2/config", f.token, nil); a.status != http.StatusForbidden {
		t.Errorf("another node's config: %d; want 403", a.status)
	}
}

func TestCatalog(t *testing.T) {
	f := newFixture(t)
	a := checkETag(t, f, "/v1/catalog")
	var cat catalogFile
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cat); err != nil {
		t.Fatalf("catalogue: %v", err)
	}
	if cat.Version == "" || len(cat.Items) < 30 {
		t.Fatalf("catalogue version %q with %d items; want a version and at least 30", cat.Version, len(cat.Items))
	}
	codes, depts := map[string]bool{}, map[string]bool{}
	for _, it := range cat.Items {
		if it.Code == "" || it.Name == "" || it.Department == "" || it.Category == "" || it.QueueCategory == "" ||
			it.LegalBasis == "" || it.Conditions == "" || len(it.Materials) == 0 || len(it.Steps) == 0 ||
			it.TimeLimitWorkdays <= 0 || it.Fee == "" {
			t.Errorf("item %+v has an empty field", it)
		}
		for _, m := range it.Materials {
			if m.Name == "" || m.Copies <= 0 || m.Note == "" {
				t.Errorf("item %s: material %+v has an empty field", it.Code, m)
			}
		}
		if codes[it.Code] {
			t.Errorf("item code %s twice", it.Code)
		}
		codes[it.Code], depts[it.Department] = true, true
	}
	if len(depts) < 8 {
		t.Errorf("%d departments; want at least 8", len(depts))
	}
	// Every field of UPLINK.md is on the wire.
	var raw struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	json.Unmarshal(a.body, &raw)
	for _, k := range []string{"code", "name", "department", "category", "queue_category", "legal_basis", "conditions",
		"materials", "steps", "time_limit_workdays", "fee", "online_apply", "pickup_at_kiosk"} {
		if _, ok := raw.Items[0][k]; !ok {
			t.Errorf("catalogue items lack %q", k)
		}
	}
	f.must(t, "PUT", "/control/catalog", "", `{"version":"bad"}`)
	if b := f.must(t, "GET", "/v1/catalog", f.token, nil, "If-None-Match", a.header.Get("ETag")); string(b.body) != `{"version":"bad"}` {
		t.Errorf("after PUT /control/catalog: %v; want the pushed body", b)
	}
	if b := f.must(t, "GET", "/v1/catalog", "", nil); b.status != http.StatusUnauthorized {
		t.Errorf("catalogue without a token: %d; want 401", b.status)
	}
}

func TestAppointments(t *testing.T) {
	f := newFixture(t)
	path := "/v1/nodes/" + testNode + "/appointments?from=2026-11-23&days=3"
	a := checkETag(t, f, path)
	var got struct {
		Appointments []appointmentWire `json:"appointments"`
	}
	json.Unmarshal(a.body, &got)
	if len(got.Appointments) != 3*3*2 {
		t.Fatalf("%d appointments; want 18 (3 days, 3 categories, 2 each)", len(got.Appointments))
	}
	hash := idnum.Hash([]byte(DemoDeploymentKey), DemoPeople[0].IDNumber)
	found := false
	for _, ap := range got.Appointments {
		if ap.AppointmentID == "" || ap.Code == "" || ap.Category == "" || ap.HolderMasked == "" ||
			(ap.Status != "booked" && ap.Status != "cancelled") {
			t.Errorf("appointment %+v has an empty field", ap)
		}
		if _, err := time.Parse(time.RFC3339, ap.SlotStart); err != nil {
			t.Errorf("slot_start %q: %v", ap.SlotStart, err)
		}
		found = found || ap.IDHash == hash
	}
	if !found {
		t.Error("no appointment of DemoPeople[0] under the demo deployment key")
	}
	start := time.Date(2026, 11, 24, 15, 0, 0, 0, f.sim.loc)
	f.sim.AddAppointment(testNode, Appointment{AppointmentID: "ap-test", Code: "YY1", Category: "B",
		SlotStart: start, SlotEnd: start.Add(30 * time.Minute), IDHash: hash, HolderMasked: "张*"})
	b := f.must(t, "GET", path, f.token, nil, "If-None-Match", a.header.Get("ETag"))
	if b.status != http.StatusOK || !bytes.Contains(b.body, []byte(`"ap-test"`)) {
		t.Errorf("after AddAppointment: %d; want 200 with ap-test", b.status)
	}
	ctl := f.must(t, "POST", "/control/nodes/"+testNode+"/appointments", "", `{"code":"YY2","category":"A",
		"slot_start":"2026-11-23T10:00:00.000+08:00","slot_end":"2026-11-23T10:30:00.000+08:00","status":"cancelled"}`)
	if ctl.status != http.StatusOK || !bytes.Contains(f.must(t, "GET", path, f.token, nil).body, []byte(`"YY2"`)) {
		t.Errorf("control appointment: %v; want it listed", ctl)
	}
	for _, q := range []string{"?from=23.11.2026", "?days=0", "?days=99"} {
		if a := f.must(t, "GET", "/v1/nodes/"+testNode+"/appointments"+q, f.token, nil); a.status != http.StatusBadRequest {
			t.Errorf("appointments%s: %d; want 400", q, a.status)
		}
	}
}

func TestPickupsAndPDF(t *testing.T) {
	f := newFixture(t)
	a := checkETag(t, f, "/v1/nodes/"+testNode+"/pickups")
	var got struct {
		Pickups []pickupWire `json:"pickups"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil || len(got.Pickups) != 3 {
		t.Fatalf("pickups = %s; want 3", a.body)
	}
	for _, p := range got.Pickups {
		d := f.must(t, "GET", "/v1/pickups/"+p.PickupID+"/document", f.token, nil)
		sum := sha256.Sum256(d.body)
		if d.status != http.StatusOK || d.header.Get("Content-Type") != "application/pdf" {
			t.Errorf("document %s: %d %s", p.PickupID, d.status, d.header.Get("Content-Type"))
		}
		if !bytes.HasPrefix(d.body, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(d.body), []byte("%%EOF")) {
			t.Errorf("document %s is not a PDF: %.20q...", p.PickupID, d.body)
		}
		if hex.EncodeToString(sum[:]) != p.DocumentSHA256 {
			t.Errorf("document %s sha256 differs from the listing", p.PickupID)
		}
		if p.IDHash == "" || p.HolderMasked == "" || p.Title == "" || p.Pages != 1 || p.Copies != 1 {
			t.Errorf("pickup %+v has an empty field", p)
		}
		if _, err := time.Parse(time.RFC3339, p.ExpiresAt); err != nil {
			t.Errorf("expires_at %q: %v", p.ExpiresAt, err)
		}
	}
	if got.Pickups[0].IDHash != idnum.Hash([]byte(DemoDeploymentKey), DemoPeople[0].IDNumber) {
		t.Error("first pickup is not DemoPeople[0]'s under the demo key")
	}
	other := f.sim.AddNode("n2", "sim-hall")
	if d := f.must(t, "GET", "/v1/pickups/"+got.Pickups[0].PickupID+"/document", other, nil); d.status != http.StatusForbidden {
		t.Errorf("another node's document: %d; want 403", d.status)
	}
	if d := f.must(t, "GET", "/v1/pickups/nope/document", f.token, nil); d.status != http.StatusNotFound {
		t.Errorf("unknown document: %d; want 404", d.status)
	}
	// A pickup with a wrong checksum, for the node's verification.
	c := f.must(t, "POST", "/control/nodes/"+testNode+"/pickups", "", `{"pickup_id":"pk-bad","title":"营业执照","title_en":"Licence","wrong_sha256":true}`)
	if c.status != http.StatusOK {
		t.Fatalf("control pickup: %v", c)
	}
	json.Unmarshal(f.must(t, "GET", "/v1/nodes/"+testNode+"/pickups", f.token, nil).body, &got)
	d := f.must(t, "GET", "/v1/pickups/pk-bad/document", f.token, nil)
	sum := sha256.Sum256(d.body)
	for _, p := range got.Pickups {
		if p.PickupID == "pk-bad" && p.DocumentSHA256 == hex.EncodeToString(sum[:]) {
			t.Error("pk-bad lists the right sha256; want a wrong one")
		}
	}
	// Expired pickups are no longer listed.
	f.clk.Advance(31 * 24 * time.Hour)
	json.Unmarshal(f.must(t, "GET", "/v1/nodes/"+testNode+"/pickups", f.token, nil).body, &got)
	if len(got.Pickups) != 0 {
		t.Errorf("%d pickups after expiry; want 0", len(got.Pickups))
	}
}

func TestCertificatePDFStable(t *testing.T) {
	a := CertificatePDF("Licence (A)", "营业执照", "Zhang *", "pk-1")
	b := CertificatePDF("Licence (A)", "营业执照", "Zhang *", "pk-1")
	if !bytes.Equal(a, b) {
		t.Error("CertificatePDF is not deterministic")
	}
	checkXref(t, a)
	for _, want := range []string{"/Helvetica", "(Licence \\(A\\)) Tj", " c\n", "startxref"} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("PDF lacks %q", want)
		}
	}
}

// checkXref verifies the cross-reference table: startxref points at it and every entry at
// its object, which is what a PDF reader relies on.
func checkXref(t *testing.T, pdf []byte) {
	t.Helper()
	tail := string(pdf[bytes.LastIndex(pdf, []byte("startxref")):])
	fields := strings.Fields(tail)
	off, err := strconv.Atoi(fields[1])
	if err != nil || !bytes.HasPrefix(pdf[off:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %q does not point at the xref table", fields[1])
	}
	lines := strings.Split(string(pdf[off:]), "\n")
	n, _ := strconv.Atoi(strings.Fields(lines[1])[1])
	for i := 1; i < n; i++ {
		entry := lines[2+i]
		if len(entry) != 19 { // 20 bytes with the newline
			t.Errorf("xref entry %q is not 20 bytes", entry)
		}
		o, _ := strconv.Atoi(entry[:10])
		if want := fmt.Sprintf("%d 0 obj", i); !bytes.HasPrefix(pdf[o:], []byte(want)) {
			t.Errorf("xref entry %d points at %.10q; want %q", i, pdf[o:], want)
		}
	}
}
