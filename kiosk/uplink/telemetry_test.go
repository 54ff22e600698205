package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

func TestCompactTelemetry(t *testing.T) {
	fc := clock.NewFake(sendT0)
	r := newSendRig(t, newSendFake(fc), fc, SenderConfig{TelemetryMax: 5})
	ctx := context.Background()
	s := r.sender
	sendAdd(t, r.db, StreamQueue, "ticket.issued", 20, nil) // never touched
	for i, dev := range []string{"printer", "idcard", "printer", "printer", "idcard", "scanner"} {
		if err := s.AppendTelemetry(ctx, "device.health", map[string]any{"device": dev, "state": "ok", "n": i}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if err := s.Heartbeat(ctx, "1.2.3", time.Duration(i)*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	// 9 appended, cap 5: the four oldest (printer 0, idcard 1, printer 2, printer 3) dropped.
	compacted, dropped, err := s.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Left before compacting: idcard 4, scanner 5, hb 0, hb 1, hb 2 -> heartbeats 0, 1 go.
	if compacted != 2 || dropped != 0 {
		t.Errorf("Compact = %d compacted, %d dropped; want 2, 0", compacted, dropped)
	}
	rows, err := r.db.Read().Query(`SELECT type, CAST(data AS TEXT) FROM outbox WHERE stream = 'telemetry' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var typ, data string
		rows.Scan(&typ, &data)
		var m map[string]any
		json.Unmarshal([]byte(data), &m)
		switch typ {
		case "device.health":
			got = append(got, m["device"].(string))
		case "node.heartbeat":
			got = append(got, "heartbeat uptime="+jsonText(m["uptime_s"])+" depth="+jsonText(m["outbox_depth"]))
		}
	}
	rows.Close()
	want := []string{"idcard", "scanner", "heartbeat uptime=120 depth=25"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("telemetry after compaction = %q; want %q", got, want)
	}
	if n := sendCount(t, r.db, `SELECT COUNT(*) FROM outbox WHERE stream = 'queue'`); n != 20 {
		t.Errorf("queue events = %d; want all 20 (never dropped)", n)
	}
	st, err := s.State(ctx)
	if err != nil || st.TelemetryDropped != 4 || st.TelemetryCompacted != 2 {
		t.Errorf("State dropped %d compacted %d (%v); want 4, 2", st.TelemetryDropped, st.TelemetryCompacted, err)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDiskLowRefusesTelemetry(t *testing.T) {
	fc := clock.NewFake(sendT0)
	r := newSendRig(t, newSendFake(fc), fc, SenderConfig{})
	ctx := context.Background()
	r.sender.SetDiskLow(true)
	if err := r.sender.AppendTelemetry(ctx, "device.health", map[string]string{"device": "printer"}); !errors.Is(err, ErrDiskLow) {
		t.Errorf("AppendTelemetry on a full disk = %v; want ErrDiskLow", err)
	}
	if err := r.sender.Heartbeat(ctx, "1", time.Second); !errors.Is(err, ErrDiskLow) {
		t.Errorf("Heartbeat on a full disk = %v; want ErrDiskLow", err)
	}
	if h, _ := r.health.Get("uplink.disk"); h.State != health.Degraded || h.Code != "uplink.disk_low" {
		t.Errorf("health uplink.disk = %s %s; want degraded uplink.disk_low", h.State, h.Code)
	}
	r.sender.SetDiskLow(false)
	if err := r.sender.AppendTelemetry(ctx, "device.health", map[string]string{"device": "printer"}); err != nil {
		t.Errorf("AppendTelemetry after space came back = %v", err)
	}
	if h, _ := r.health.Get("uplink.disk"); h.State != health.OK {
		t.Errorf("health uplink.disk = %s; want ok", h.State)
	}
}

func TestSendAssess(t *testing.T) {
	ago := sendT0.Add(-time.Minute)
	tests := []struct {
		name    string
		st      Status
		overall string
		code    string
	}{
		{"empty", Status{}, StateOK, "uplink.ok"},
		{"flowing", Status{Streams: []StreamStatus{{Stream: "queue", Backlog: 3, OldestAge: time.Second, LastSuccess: ago}}}, StateOK, "uplink.ok"},
		{"unauthorized", Status{Unauthorized: true}, StateOffline, "uplink.unauthorized"},
		{"all failing", Status{Streams: []StreamStatus{{Stream: "queue", Backlog: 3, FailStreak: 3, LastSuccess: ago}, {Stream: "business"}}}, StateOffline, "uplink.offline"},
		{"never succeeded", Status{Streams: []StreamStatus{{Stream: "queue", Backlog: 3, FailStreak: 1}}}, StateOffline, "uplink.offline"},
		{"failing without backlog", Status{Streams: []StreamStatus{{Stream: "queue", FailStreak: 9}}}, StateOK, "uplink.ok"},
		{"one of two failing", Status{Streams: []StreamStatus{{Stream: "queue", Backlog: 3, FailStreak: 3, LastSuccess: ago}, {Stream: "business", Backlog: 1, LastSuccess: ago}}}, StateDegraded, "uplink.degraded"},
		{"two failures", Status{Streams: []StreamStatus{{Stream: "queue", Backlog: 3, FailStreak: 2, LastSuccess: ago}}}, StateOK, "uplink.ok"},
		{"stale", Status{Streams: []StreamStatus{{Stream: "queue", Backlog: 3, OldestAge: 6 * time.Minute, LastSuccess: ago}}}, StateDegraded, "uplink.backlog_stale"},
		{"dead letters", Status{Streams: []StreamStatus{{Stream: "queue", DeadLetters: 1}}}, StateDegraded, "uplink.degraded"},
	}
	for _, tt := range tests {
		st := tt.st
		sendAssess(&st, 3, 5*time.Minute)
		if st.Overall != tt.overall || st.Code != tt.code {
			t.Errorf("sendAssess(%s) = %s %s; want %s %s", tt.name, st.Overall, st.Code, tt.overall, tt.code)
		}
	}
}

func TestStateAndMetrics(t *testing.T) {
	// The store stamps created_at with the wall clock, so ages are measured from a fake
	// clock that starts now (sendT0 is taken at package start, which a slow run leaves far
	// behind).
	fc := clock.NewFake(time.Now())
	r := newSendRig(t, newSendFake(fc), fc, SenderConfig{Streams: []string{StreamQueue, StreamBusiness}}) // not started
	sendAdd(t, r.db, StreamQueue, "ticket.issued", 4, nil)
	fc.Advance(6 * time.Minute)
	st, err := r.sender.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Overall != StateDegraded || st.Code != "uplink.backlog_stale" || st.Streams[0].Backlog != 4 || st.Streams[0].OldestAge < 5*time.Minute {
		t.Errorf("State = %+v; want degraded, backlog_stale, 4 queue events 6 minutes old", st)
	}
	var b bytes.Buffer
	if err := WriteMetrics(&b, st); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`hallkiosk_uplink_backlog{stream="queue"} 4`,
		`hallkiosk_uplink_backlog{stream="business"} 0`,
		`hallkiosk_uplink_last_success_timestamp_seconds{stream="queue"} 0`,
		`hallkiosk_uplink_state{state="degraded"} 1`,
		`hallkiosk_uplink_state{state="ok"} 0`,
		`hallkiosk_uplink_unauthorized 0`,
		"# TYPE hallkiosk_uplink_dead_letters gauge",
	} {
		if !strings.Contains(b.String(), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, b.String())
		}
	}
}
