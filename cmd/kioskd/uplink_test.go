package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/config"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/platformsim"
	"github.com/hallkiosk/hallkiosk/internal/store"
	"github.com/hallkiosk/hallkiosk/kiosk/uplink"
	"github.com/hallkiosk/hallkiosk/web"
)

// uplinkNode is a node enrolled with an in-process platformsim, its uplink started as
// kioskd starts it (link.start), and its admin API.
type uplinkNode struct {
	n     *node
	l     *link
	sim   *platformsim.Sim
	db    *store.DB
	admin http.Handler
}

func startUplinkNode(t *testing.T) *uplinkNode {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Node.ID, cfg.Node.Hall = "hall-0571-01-t03", "hall-0571-01"
	// Default has provisioned the files beside var/kioskd.db already: all in dir instead.
	cfg.Store.Path = filepath.Join(dir, "kioskd.db")
	cfg.Uplink.EnrolmentFile = filepath.Join(dir, "enrolment.json")
	cfg.Uplink.DocumentKeyFile = filepath.Join(dir, "document.key")
	// One round of pulls at start, then none during the test unless it asks for one.
	cfg.Uplink.PullInterval = "1h"
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.Store.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sim, err := platformsim.Open(ctx, platformsim.Config{DBPath: filepath.Join(dir, "platform.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	tok := sim.AddNode(cfg.Node.ID, cfg.Node.Hall)
	if err := uplink.SaveEnrolment(cfg.Uplink.EnrolmentFile, uplink.Enrolment{Token: tok}, srv.URL); err != nil {
		t.Fatal(err)
	}
	n := &node{cfg: cfg, clock: clock.Real{}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		health: health.NewRegistry(time.Now), db: db, appointmentsFixed: true}
	u := &uplinkNode{n: n, l: &link{n: n}, sim: sim, db: db}
	a := &web.Admin{NodeID: cfg.Node.ID, Health: n.health}
	u.l.routes(a)
	u.admin = a.Handler()
	if err := u.l.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.l.halt)
	// The pulls of start-up are done once the pickups are in.
	uplinkWait(t, "the first pulls", func() bool { st, ok := n.health.Get(uplink.ComponentPickups); return ok && st.State == health.OK })
	return u
}

func uplinkWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (u *uplinkNode) append(t *testing.T, stream, typ string, data any) {
	t.Helper()
	err := u.db.Write(context.Background(), func(tx *store.Tx) error {
		_, _, err := store.AppendOutbox(tx, stream, typ, time.Now(), data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (u *uplinkNode) unauthorized() bool {
	s, _, _ := u.l.current()
	st, _ := s.State(context.Background())
	return st.Unauthorized
}

func (u *uplinkNode) accepted(stream string) int {
	return u.sim.Stats(u.n.cfg.Node.ID).Streams[stream].Accepted
}

func (u *uplinkNode) resume(t *testing.T) (status int, resumed bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	u.admin.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/uplink/resume", nil))
	var ans struct{ Resumed bool }
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
			t.Fatalf("POST /api/uplink/resume answered %q: %v", rec.Body, err)
		}
	}
	return rec.Code, ans.Resumed
}

// TestUplinkResumes: after a 401, kioskd's uplink sends again by itself once a pull with
// the same token succeeds, and at once on POST /api/uplink/resume.
func TestUplinkResumes(t *testing.T) {
	u := startUplinkNode(t)
	_, p, _ := u.l.current()
	ctx := context.Background()

	u.sim.SetFaults(platformsim.Faults{Unauthorized: true})
	u.append(t, uplink.StreamQueue, "ticket.issued", map[string]string{"ticket": "A001", "category": "A"})
	uplinkWait(t, "uplink.unauthorized", u.unauthorized)
	u.sim.SetFaults(platformsim.Faults{})
	if err := p.PullAll(ctx); err != nil {
		t.Fatal(err)
	}
	uplinkWait(t, "A001 at the platform after a successful pull", func() bool { return u.accepted(uplink.StreamQueue) == 1 })

	u.sim.SetFaults(platformsim.Faults{Unauthorized: true})
	u.append(t, uplink.StreamQueue, "ticket.issued", map[string]string{"ticket": "A002", "category": "A"})
	uplinkWait(t, "uplink.unauthorized again", u.unauthorized)
	u.sim.SetFaults(platformsim.Faults{})
	if code, resumed := u.resume(t); code != http.StatusOK || !resumed {
		t.Fatalf("POST /api/uplink/resume = %d, resumed %v; want 200, true", code, resumed)
	}
	uplinkWait(t, "A002 at the platform after the resume", func() bool { return u.accepted(uplink.StreamQueue) == 2 })
	if code, resumed := u.resume(t); code != http.StatusOK || resumed {
		t.Errorf("POST /api/uplink/resume while sending = %d, resumed %v; want 200, false", code, resumed)
	}

	u.l.halt()
	if code, _ := u.resume(t); code != http.StatusConflict {
		t.Errorf("POST /api/uplink/resume without an uplink = %d; want 409", code)
	}
}

// TestUplinkPrintedPickupDeleted: the certificate.printed event of a printed pickup, once
// the platform has it, deletes the pickup's document in kioskd's store.
func TestUplinkPrintedPickupDeleted(t *testing.T) {
	u := startUplinkNode(t)
	_, p, _ := u.l.current()
	ctx := context.Background()
	list, err := p.Pickups(ctx)
	if err != nil || len(list) == 0 {
		t.Fatalf("Pickups = %d, %v; want platformsim's seeded ones", len(list), err)
	}
	pk := list[0]
	if err := p.MarkPrinted(ctx, pk.PickupID, 1); err != nil {
		t.Fatal(err)
	}
	u.append(t, uplink.StreamBusiness, uplink.EventCertificatePrinted, map[string]any{"pickup_id": pk.PickupID, "copies": 1, "printer": "cert", "id_hash": pk.IDHash})
	uplinkWait(t, "the pickup's document deleted", func() bool {
		_, err := p.Document(ctx, pk.PickupID)
		return errors.Is(err, uplink.ErrNoPickup)
	})
	if n := u.accepted(uplink.StreamBusiness); n != 1 {
		t.Errorf("certificate.printed events at the platform: %d; want 1", n)
	}
	var gone bool
	u.db.Read().QueryRow(`SELECT document IS NULL AND id_hash = '' FROM downlink_pickups WHERE pickup_id = ?`, pk.PickupID).Scan(&gone)
	if !gone {
		t.Error("the acknowledged pickup still holds its document or holder")
	}
}
