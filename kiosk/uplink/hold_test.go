package uplink

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/platformsim"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// TestMaterialsBeforeSubmission: a material scanned while the platform is unreachable and
// the application.submitted that names it both wait; when the network heals the material is
// uploaded before the submission is sent.
func TestMaterialsBeforeSubmission(t *testing.T) {
	r := newSimRig(t)
	ctx := context.Background()
	var mu sync.Mutex
	var order []string // "material" and "submission", as the platform received them
	h := r.sim.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 300 {
			mu.Lock()
			switch {
			case req.URL.Path == "/v1/materials":
				order = append(order, "material")
			case strings.HasSuffix(req.URL.Path, "/events") && bytes.Contains(body, []byte(TypeApplicationSubmitted)):
				order = append(order, "submission")
			}
			mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	client := &Client{Base: srv.URL, Node: r.client.Node, Token: r.client.Token, HTTP: srv.Client()}
	p, err := NewPuller(PullerConfig{Client: client, DB: r.db, Clock: r.clock, DocKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}

	r.sim.SetFaults(platformsim.Faults{Partition: true})
	if _, err := p.QueueMaterial(ctx, Material{LocalRef: "L-1", Name: "身份证复印件", Pages: 1, Files: [][]byte{[]byte("%PDF-1.4 scan")}}); err != nil {
		t.Fatal(err)
	}
	err = r.db.Write(ctx, func(tx *store.Tx) error {
		_, _, err := store.AppendOutbox(tx, StreamBusiness, TypeApplicationSubmitted, r.clock.Now(),
			map[string]any{"local_ref": "L-1", "item_code": "110101-001", "material_ids": []string{}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s := newSendRig(t, http.NotFoundHandler(), r.clock, SenderConfig{DB: r.db, Client: client, Hold: p.HoldForMaterials,
		Streams: []string{StreamBusiness}, DrainRate: 1e6})
	sendPumpWhen(t, r.clock, time.Millisecond, 1)
	s.start(t)
	time.Sleep(200 * time.Millisecond) // a few rounds against the partition (observing that nothing happens)
	if n := r.outbox(t); n != 1 {
		t.Fatalf("outbox holds %d events while partitioned; want the submission kept", n)
	}
	r.sim.SetFaults(platformsim.Faults{})
	sendEventually(t, 20*time.Second, "submission delivered", func() bool { return r.outbox(t) == 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 2 || order[0] != "material" || order[1] != "submission" {
		t.Errorf("platform received %v; want the material, then the submission", order)
	}
	if _, pending, _ := p.MaterialIDs(ctx, "L-1"); pending != 0 {
		t.Errorf("%d materials still pending", pending)
	}
}
