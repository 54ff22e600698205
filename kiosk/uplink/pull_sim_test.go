package uplink

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/platformsim"
)

func pullLoopback(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// pullSimRig is a node enrolled at the reference platform, both on the same fake clock.
func pullSimRig(t *testing.T) (*pullRig, *platformsim.Sim, string) {
	t.Helper()
	r := newPullRig(t, "", nil)
	sim, err := platformsim.Open(context.Background(), platformsim.Config{DBPath: t.TempDir() + "/platform.db", Clock: r.clk})
	if err != nil {
		t.Fatal(err)
	}
	srv := pullLoopback(t, sim.Handler())
	r.p.c.Client.Base = srv
	r.p.c.Client.Token = sim.AddNode("hall-0571-01-t03", "hall-0571-01")
	t.Cleanup(func() { sim.Close() })
	return r, sim, srv
}

func pullControl(t *testing.T, method, url, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %s", method, url, resp.Status)
	}
}

func TestPullSimConfigAndCatalog(t *testing.T) {
	r, _, base := pullSimRig(t)
	ctx := context.Background()
	if changed, err := r.p.PullConfig(ctx); !changed || err != nil {
		t.Fatalf("PullConfig from platformsim = %v, %v", changed, err)
	}
	if changed, err := r.p.PullConfig(ctx); changed || err != nil {
		t.Fatalf("second PullConfig = %v, %v; want a 304", changed, err)
	}
	cfg, _, _ := r.p.Config(ctx)
	if len(cfg.Categories) == 0 || len(cfg.Windows) == 0 || cfg.Timezone != "Asia/Shanghai" {
		t.Fatalf("config = %+v", cfg)
	}
	pullControl(t, "PUT", base+"/control/nodes/hall-0571-01-t03/config", `{"hall_name": "x", "timezone": "Asia/Shanghai", "categories": [], "windows": []}`)
	var ref *RefusedError
	if _, err := r.p.PullConfig(ctx); !errors.As(err, &ref) {
		t.Fatalf("PullConfig of a bad config = %v", err)
	}
	if st := r.health(t, ComponentConfig); st.Code != "uplink.config_refused" {
		t.Fatalf("health = %+v", st)
	}
	if now, _, _ := r.p.Config(ctx); now.HallName != cfg.HallName || len(r.cfgs) != 1 {
		t.Fatalf("the old config was not kept: %+v", now)
	}

	if changed, err := r.p.PullCatalog(ctx); !changed || err != nil {
		t.Fatalf("PullCatalog from platformsim = %v, %v", changed, err)
	}
	c, _, err := r.p.Catalog(ctx)
	if err != nil || len(c.Items) == 0 {
		t.Fatalf("Catalog = %v, %v", c, err)
	}
	if changed, err := r.p.PullCatalog(ctx); changed || err != nil {
		t.Fatalf("second PullCatalog = %v, %v; want a 304", changed, err)
	}
	pullControl(t, "PUT", base+"/control/catalog", `{"version": "bad", "items": [{"code": "", "name": "x"}]}`)
	if _, err := r.p.PullCatalog(ctx); !errors.As(err, &ref) || !strings.Contains(err.Error(), "code is empty") {
		t.Fatalf("PullCatalog of a bad catalogue = %v", err)
	}
	if c2, _, _ := r.p.Catalog(ctx); c2.Version != c.Version {
		t.Fatalf("catalogue replaced by a refused one")
	}
}

func TestPullSimPickupsAndAppointments(t *testing.T) {
	r, _, base := pullSimRig(t)
	ctx := context.Background()
	if _, err := r.p.PullPickups(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := r.p.Pickups(ctx)
	if len(list) == 0 {
		t.Fatal("no pickups from platformsim's seed")
	}
	doc, err := r.p.Document(ctx, list[0].PickupID)
	if err != nil || !bytes.HasPrefix(doc, []byte("%PDF")) {
		t.Fatalf("Document = %.10q, %v", doc, err)
	}
	pullControl(t, "POST", base+"/control/nodes/hall-0571-01-t03/pickups",
		`{"pickup_id": "pk-liar", "id_hash": "ab", "holder_masked": "张*", "title": "营业执照", "pages": 1, "copies": 1, "wrong_sha256": true}`)
	var ref *RefusedError
	if _, err := r.p.PullPickups(ctx); !errors.As(err, &ref) || !strings.Contains(err.Error(), "pk-liar") {
		t.Fatalf("PullPickups with a wrong hash = %v", err)
	}
	if _, err := r.p.Document(ctx, "pk-liar"); !errors.Is(err, ErrNoPickup) {
		t.Fatalf("the refused pickup was kept: %v", err)
	}
	if l, _ := r.p.Pickups(ctx); len(l) != len(list) {
		t.Fatalf("pickups after a refusal: %d; want %d", len(l), len(list))
	}
	if st := r.health(t, ComponentPickups); st.Code != "uplink.pickup_refused" {
		t.Fatalf("health = %+v", st)
	}

	if _, err := r.p.PullConfig(ctx); err != nil {
		t.Fatal(err)
	}
	if changed, err := r.p.PullAppointments(ctx); !changed || err != nil {
		t.Fatalf("PullAppointments = %v, %v", changed, err)
	}
	today, _ := r.p.Appointments(ctx, r.clk.Now())
	tomorrow, _ := r.p.Appointments(ctx, r.clk.Now().Add(24*time.Hour))
	if len(today) == 0 || len(tomorrow) == 0 {
		t.Fatalf("appointments today %d, tomorrow %d", len(today), len(tomorrow))
	}
	if a, err := r.p.AppointmentByCode(ctx, today[0].Code); err != nil || a.AppointmentID != today[0].AppointmentID {
		t.Fatalf("AppointmentByCode = %+v, %v", a, err)
	}
	if changed, err := r.p.PullAppointments(ctx); changed || err != nil {
		t.Fatalf("second PullAppointments = %v, %v; want a 304", changed, err)
	}
}

func TestPullSimLiveCalls(t *testing.T) {
	r, sim, _ := pullSimRig(t)
	ctx := context.Background()
	a, err := r.p.Progress(ctx, ProgressQuery{IDNumber: platformsim.DemoPeople[0].IDNumber})
	if err != nil || len(a.Cases) == 0 {
		t.Fatalf("Progress = %+v, %v", a, err)
	}
	sim.SetFaults(platformsim.Faults{Hang: true})
	start := time.Now()
	if _, err := r.p.Progress(ctx, ProgressQuery{CaseNo: a.Cases[0].CaseNo}); !errors.Is(err, ErrOffline) || time.Since(start) > LiveTimeout+500*time.Millisecond {
		t.Fatalf("Progress against a hanging platformsim = %v after %v", err, time.Since(start))
	}
	// An answer of the wrong shape ({"ok": true}) is a failed attempt, not "no cases".
	sim.SetFaults(platformsim.Faults{WrongShape: true})
	start = time.Now()
	if b, err := r.p.Progress(ctx, ProgressQuery{IDNumber: platformsim.DemoPeople[0].IDNumber}); !errors.Is(err, ErrOffline) || time.Since(start) > LiveTimeout {
		t.Fatalf("Progress against a wrong-shape platformsim = %+v, %v after %v; want ErrOffline", b, err, time.Since(start))
	}
	sim.SetFaults(platformsim.Faults{})
	if leaks := r.logs.Leaks(); len(leaks) > 0 {
		t.Fatalf("ID numbers in the logs: %d", len(leaks))
	}
}

// TestPullSimMaterialCrash loses the platform's answer to an upload, restarts the node on the
// same database, and checks that the retry gets the material id the platform made first.
func TestPullSimMaterialCrash(t *testing.T) {
	clk := clock.NewFake(pullT0)
	sim, err := platformsim.Open(context.Background(), platformsim.Config{DBPath: t.TempDir() + "/platform.db", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	h := sim.Handler()
	var lost []string // answers the node never saw
	var mu sync.Mutex
	base := pullLoopback(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		lose := req.URL.Path == "/v1/materials" && len(lost) == 0
		mu.Unlock()
		if !lose {
			h.ServeHTTP(w, req)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		mu.Lock()
		lost = append(lost, rec.Body.String())
		mu.Unlock()
		w.WriteHeader(http.StatusBadGateway) // the answer is lost on the way back
	}))
	token := sim.AddNode("hall-0571-01-t03", "hall-0571-01")
	dbPath := t.TempDir() + "/node.db"
	db := pullOpenDB(t, dbPath)
	r := newPullRig(t, base, db)
	r.p.c.Client.Token = token
	ctx := context.Background()
	if _, err := r.p.QueueMaterial(ctx, Material{LocalRef: "app-9", Name: "身份证复印件", Pages: 1, Files: [][]byte{[]byte("\xff\xd8\xff scan")}}); err != nil {
		t.Fatal(err)
	}
	if err := r.p.FlushMaterials(ctx); err == nil {
		t.Fatal("FlushMaterials with a lost answer succeeded")
	}
	if st := r.health(t, ComponentMaterials); st.State != health.Degraded {
		t.Fatalf("health = %+v", st)
	}
	db.Close() // crash

	db2 := pullOpenDB(t, dbPath)
	r2 := newPullRig(t, base, db2)
	r2.p.c.Client.Token = token
	if err := r2.p.FlushMaterials(ctx); err != nil {
		t.Fatal(err)
	}
	ids, pending, err := r2.p.MaterialIDs(ctx, "app-9")
	if err != nil || pending != 0 || len(ids) != 1 || len(lost) != 1 || !strings.Contains(lost[0], `"`+ids[0]+`"`) {
		t.Fatalf("MaterialIDs = %v, %d, %v; the lost answer was %v", ids, pending, err, lost)
	}
}
