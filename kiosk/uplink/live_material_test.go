package uplink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/platformsim"
)

// liveSimRig is a node enrolled at the reference platform, whose requests go through wrap
// (the link: slow, or watched by the test).
func liveSimRig(t *testing.T, wrap func(http.Handler) http.Handler) (*pullRig, *platformsim.Sim) {
	t.Helper()
	clk := clock.NewFake(pullT0)
	sim, err := platformsim.Open(context.Background(), platformsim.Config{DBPath: t.TempDir() + "/platform.db", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	r := newPullRig(t, pullLoopback(t, wrap(sim.Handler())), nil)
	// Before the server closes (cleanups run last first): a request hanging under the
	// Hang fault, whose body was never read, does not see the client go.
	t.Cleanup(func() { sim.SetFaults(platformsim.Faults{}) })
	r.p.c.Client.Token = sim.AddNode("hall-0571-01-t03", "hall-0571-01")
	return r, sim
}

// liveSlowBody is a request body on a slow link of rate bytes per second.
type liveSlowBody struct {
	io.ReadCloser
	rate int
}

func (b liveSlowBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	time.Sleep(time.Duration(n) * time.Second / time.Duration(b.rate)) // the link, not the test, waits
	return n, err
}

// TestLiveMaterialSlowLink uploads a material that takes longer than the HTTP client's
// overall Timeout to go up: the background flush must still get it through, since its
// deadline scales with the size and not with the client's Timeout.
func TestLiveMaterialSlowLink(t *testing.T) {
	r, _ := liveSimRig(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path == "/v1/materials" {
				req.Body = liveSlowBody{req.Body, 1 << 20} // 512 KiB take half a second
			}
			h.ServeHTTP(w, req)
		})
	})
	hc, err := HTTPClient("", 150*time.Millisecond) // as kioskd builds it, with 35 s shrunk to fit a test
	if err != nil {
		t.Fatal(err)
	}
	r.p.c.Client.HTTP = hc
	ctx := context.Background()
	scan := append([]byte("\xff\xd8\xff"), bytes.Repeat([]byte{0x5a}, 512<<10)...)
	if _, err := r.p.QueueMaterial(ctx, Material{LocalRef: "app-slow", Name: "房屋租赁合同", Pages: 8, Files: [][]byte{scan}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := r.p.FlushMaterials(ctx); err != nil {
		t.Fatalf("FlushMaterials over a slow link = %v after %v; want the material through", err, time.Since(start))
	}
	if ids, pending, err := r.p.MaterialIDs(ctx, "app-slow"); err != nil || pending != 0 || len(ids) != 1 {
		t.Fatalf("MaterialIDs = %v, %d, %v", ids, pending, err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("the upload took %v: the link was not slower than the client's Timeout, so the test proves nothing", took)
	}
}

func TestLiveMaterialUploadTimeout(t *testing.T) {
	// The largest material gets its size at 64 KiB/s and more: 8.5 minutes.
	if d := materialUploadTimeout(pullMaterialMax); d < pullMaterialMax/(64<<10)*time.Second {
		t.Errorf("materialUploadTimeout(%d) = %v; want at least %v", pullMaterialMax, d, pullMaterialMax/(64<<10)*time.Second)
	}
	if small, large := materialUploadTimeout(1<<10), materialUploadTimeout(16<<20); small < 30*time.Second || large < small+4*time.Minute {
		t.Errorf("materialUploadTimeout(1 KiB, 16 MiB) = %v, %v; want at least 30 s, and 4 min more for 16 MiB", small, large)
	}

	// The deadline is applied by context: a platform that never answers gives up at it.
	base := materialUploadBase
	materialUploadBase = 300 * time.Millisecond
	t.Cleanup(func() { materialUploadBase = base })
	r, sim := liveSimRig(t, func(h http.Handler) http.Handler { return h })
	sim.SetFaults(platformsim.Faults{Hang: true})
	ctx := context.Background()
	if _, err := r.p.QueueMaterial(ctx, Material{LocalRef: "app-h", Name: "照片", Pages: 1, Files: [][]byte{[]byte("\x89PNG")}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second) // so that a missing deadline fails rather than hangs
	defer cancel()
	start := time.Now()
	var re *RetryError
	if err := r.p.FlushMaterials(ctx); !errors.As(err, &re) || time.Since(start) > 2*time.Second {
		t.Fatalf("FlushMaterials against a hanging platform = %v after %v; want a RetryError after about %v",
			err, time.Since(start), materialUploadBase)
	}
	if n, _ := r.p.MaterialsPending(context.Background()); n != 1 {
		t.Fatalf("MaterialsPending = %d; want 1", n)
	}
}

// TestLiveUploadMaterialWaitsInBudget: while the background flush is stuck on a material,
// a citizen's upload must not wait for it past LiveTimeout. It uses real time.
func TestLiveUploadMaterialWaitsInBudget(t *testing.T) {
	arrived := make(chan struct{}, 8)
	r, sim := liveSimRig(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path == "/v1/materials" {
				select {
				case arrived <- struct{}{}:
				default:
				}
			}
			h.ServeHTTP(w, req)
		})
	})
	ctx := context.Background()
	if _, err := r.p.QueueMaterial(ctx, Material{LocalRef: "app-1", Name: "身份证复印件", Pages: 1, Files: [][]byte{[]byte("\xff\xd8\xff 1")}}); err != nil {
		t.Fatal(err)
	}
	sim.SetFaults(platformsim.Faults{Hang: true})
	fctx, cancel := context.WithTimeout(ctx, LiveTimeout+2*time.Second) // the old lock waited this long
	defer cancel()
	flushed := make(chan error, 1)
	go func() { flushed <- r.p.FlushMaterials(fctx) }()
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the flush's upload never reached the platform")
	}

	start := time.Now()
	_, err := r.p.UploadMaterial(ctx, Material{LocalRef: "app-2", Name: "照片", Pages: 1, Files: [][]byte{[]byte("\x89PNG 2")}})
	took := time.Since(start)
	if !errors.Is(err, ErrOffline) || took > LiveTimeout+500*time.Millisecond {
		t.Fatalf("UploadMaterial during a stuck flush = %v after %v; want ErrOffline within %v", err, took, LiveTimeout)
	}
	if n, _ := r.p.MaterialsPending(ctx); n != 2 {
		t.Fatalf("MaterialsPending = %d; want 2 (the citizen's material stays queued)", n)
	}
	cancel()
	if err := <-flushed; err == nil {
		t.Fatal("the stuck flush succeeded")
	}

	sim.SetFaults(platformsim.Faults{})
	if err := r.p.FlushMaterials(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"app-1", "app-2"} {
		if ids, pending, err := r.p.MaterialIDs(ctx, ref); err != nil || pending != 0 || len(ids) != 1 {
			t.Fatalf("MaterialIDs(%q) = %v, %d, %v", ref, ids, pending, err)
		}
	}
}
