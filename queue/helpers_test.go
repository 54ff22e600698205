package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

var shanghai = hallZone()

// t0 is a Sunday morning in the hall.
var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, shanghai)

func testConfig() Config {
	return Config{
		Categories: []Category{
			{Code: "A", Prefix: "A", NameZH: "社保", NameEN: "Social insurance", Windows: []int{1, 2}, AvgService: 4 * time.Minute},
			{Code: "B", Prefix: "B", NameZH: "户籍", NameEN: "Household registration", Windows: []int{2, 3}, AvgService: 6 * time.Minute},
			{Code: "C", Prefix: "C", NameZH: "不动产", NameEN: "Real estate", Windows: []int{3}},
		},
		Windows:  []Window{{ID: 1}, {ID: 2}, {ID: 3}},
		Location: shanghai,
	}
}

type fixture struct {
	q    *Queue
	db   *store.DB
	clk  *clock.Fake
	path string
	ctx  context.Context
	seen int64 // outbox seq already looked at by events()
}

func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kioskd.db")
	f := &fixture{clk: clock.NewFake(t0), path: path, ctx: context.Background()}
	f.open(t, cfg)
	return f
}

func (f *fixture) open(t testing.TB, cfg Config) {
	t.Helper()
	db, err := store.Open(f.ctx, f.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	q, err := New(db, cfg, f.clk)
	if err != nil {
		t.Fatal(err)
	}
	f.db, f.q = db, q
}

func (f *fixture) issue(t testing.TB, cat string) Ticket {
	t.Helper()
	tk, _, err := f.q.Issue(f.ctx, IssueRequest{Category: cat, Source: SourceWalkIn})
	if err != nil {
		t.Fatalf("Issue(%q) = %v", cat, err)
	}
	return tk
}

// must is used as f.must(t)(f.q.CallNext(...)): Go passes multiple results only alone.
func (f *fixture) must(t testing.TB) func(Ticket, error) Ticket {
	return func(tk Ticket, err error) Ticket {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
}

type event struct {
	Seq  int64
	Type string
	Data map[string]any
}

// events returns the queue events appended since the last call, checking seq has no gaps.
func (f *fixture) events(t testing.TB) []event {
	t.Helper()
	rows, err := f.db.Read().Query(`SELECT seq, type, data FROM outbox WHERE stream = 'queue' AND seq > ? ORDER BY seq`, f.seen)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var es []event
	for rows.Next() {
		var e event
		var data []byte
		if err := rows.Scan(&e.Seq, &e.Type, &data); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &e.Data); err != nil {
			t.Fatal(err)
		}
		if e.Seq != f.seen+1 {
			t.Errorf("outbox seq %d after %d; want contiguous", e.Seq, f.seen)
		}
		f.seen = e.Seq
		es = append(es, e)
	}
	return es
}

func types(es []event) []string {
	var s []string
	for _, e := range es {
		s = append(s, e.Type)
	}
	return s
}

// hashOf stands in for idnum.Hash: 64 hex digits, different for each s.
func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
