package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/platformsim"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

const benchBacklog = 100_000

var benchStreams = []string{StreamQueue, StreamBusiness, StreamTelemetry}

func benchData(i int) any {
	return map[string]any{"ticket": fmt.Sprintf("A%03d", i%1000), "category": "A", "priority": 0, "source": "walk_in"}
}

// benchSim starts a platform on loopback with the real clock and enrols a node.
func benchSim(b *testing.B) (*httptest.Server, string) {
	sim, err := platformsim.Open(context.Background(), platformsim.Config{DBPath: filepath.Join(b.TempDir(), "platform.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sim.Close() })
	srv := httptest.NewServer(sim.Handler())
	b.Cleanup(srv.Close)
	return srv, sim.AddNode(simNode, "hall-0571-01")
}

// BenchmarkDrain drains a 100,000-event backlog (three streams) to platformsim over loopback.
func BenchmarkDrain(b *testing.B) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		srv, tok := benchSim(b)
		db := sendOpenDB(b)
		for _, st := range benchStreams {
			sendAdd(b, db, st, "x.bench", benchBacklog/len(benchStreams), benchData)
		}
		s := NewSender(SenderConfig{
			Client: &Client{Base: srv.URL, Node: simNode, Token: tok, HTTP: srv.Client()},
			DB:     db, Clock: clock.Real{}, DrainRate: math.Inf(1),
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() { s.Run(ctx); close(done) }()
		for {
			var n int
			if err := db.Read().QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		total += time.Since(start)
		b.StopTimer()
		cancel()
		<-done
	}
	b.ReportMetric(float64(b.N*(benchBacklog/len(benchStreams))*len(benchStreams))/total.Seconds(), "events/s")
}

// BenchmarkRawPost posts the same payloads in the same batches (500, one goroutine per
// stream) with a plain http.Client: the ceiling the sender is measured against.
func BenchmarkRawPost(b *testing.B) {
	var total time.Duration
	per := benchBacklog / len(benchStreams)
	for range b.N {
		b.StopTimer()
		srv, tok := benchSim(b)
		bodies := map[string][][]byte{}
		for _, st := range benchStreams {
			for lo := 0; lo < per; lo += MaxBatchEvents {
				var evs []sendWire
				for i := lo; i < min(per, lo+MaxBatchEvents); i++ {
					d, _ := json.Marshal(benchData(i))
					evs = append(evs, sendWire{store.NewUUID().String(), st, int64(i + 1), "x.bench", store.FormatTime(sendT0), d})
				}
				body, _ := json.Marshal(map[string]any{"events": evs})
				bodies[st] = append(bodies[st], body)
			}
		}
		hc := srv.Client()
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for _, st := range benchStreams {
			wg.Go(func() {
				for _, body := range bodies[st] {
					req, _ := http.NewRequest("POST", srv.URL+"/v1/nodes/"+simNode+"/events", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+tok)
					req.Header.Set("Content-Type", "application/json")
					resp, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					var ans struct{ Results []sendResult }
					json.NewDecoder(resp.Body).Decode(&ans)
					resp.Body.Close()
					if resp.StatusCode != 200 || len(ans.Results) == 0 || ans.Results[0].Status != "accepted" {
						b.Errorf("raw post: HTTP %d %+v", resp.StatusCode, ans.Results[:min(1, len(ans.Results))])
						return
					}
				}
			})
		}
		wg.Wait()
		total += time.Since(start)
		b.StopTimer()
	}
	b.ReportMetric(float64(b.N*per*len(benchStreams))/total.Seconds(), "events/s")
}

// benchTicket is the business write of both enqueue benchmarks: one row.
func benchTicket(tx *store.Tx, i int) error {
	_, err := tx.Exec(`INSERT INTO device_events(at, component, state, code, message) VALUES(?, ?, ?, ?, ?)`,
		"2026-03-01T09:00:00.000+08:00", "queue", "ok", "ticket.issued", fmt.Sprintf("A%03d", i%1000))
	return err
}

// BenchmarkEnqueue is a business transaction with its outbox event.
func BenchmarkEnqueue(b *testing.B) {
	db := sendOpenDB(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		err := db.Write(ctx, func(tx *store.Tx) error {
			if err := benchTicket(tx, i); err != nil {
				return err
			}
			_, _, err := store.AppendOutbox(tx, StreamQueue, "ticket.issued", sendT0, benchData(i))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkTxOnly is BenchmarkEnqueue without the outbox event.
func BenchmarkTxOnly(b *testing.B) {
	db := sendOpenDB(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if err := db.Write(ctx, func(tx *store.Tx) error { return benchTicket(tx, i) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkEnqueueRatio alternates the business transaction with its outbox event and the
// same transaction without it on one database, so both meet the same disk at the same
// moment, and reports the ratio of their medians and of their means (goal <= 1.2).
func BenchmarkEnqueueRatio(b *testing.B) {
	db := sendOpenDB(b)
	ctx := context.Background()
	with, without := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		i++
		t0 := time.Now()
		err := db.Write(ctx, func(tx *store.Tx) error {
			if err := benchTicket(tx, 2*i); err != nil {
				return err
			}
			_, _, err := store.AppendOutbox(tx, StreamQueue, "ticket.issued", sendT0, benchData(i))
			return err
		})
		t1 := time.Now()
		if err == nil {
			err = db.Write(ctx, func(tx *store.Tx) error { return benchTicket(tx, 2*i+1) })
		}
		if err != nil {
			b.Fatal(err)
		}
		with, without = append(with, t1.Sub(t0)), append(without, time.Since(t1))
	}
	mean := func(ds []time.Duration) float64 {
		var s time.Duration
		for _, d := range ds {
			s += d
		}
		return float64(s) / float64(len(ds))
	}
	b.ReportMetric(mean(with)/1e3, "with-us")
	b.ReportMetric(mean(without)/1e3, "without-us")
	b.ReportMetric(mean(with)/mean(without), "mean-ratio")
	slices.Sort(with)
	slices.Sort(without)
	b.ReportMetric(float64(with[len(with)/2])/float64(without[len(without)/2]), "median-ratio")
}
