package uplink

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

const pullApptPath = "/v1/nodes/hall-0571-01-t03/appointments"

const pullGoodAppointments = `{"appointments": [
 {"appointment_id": "ap-1", "code": "YY0000000001", "category": "A", "slot_start": "2026-11-22T09:30:00.000+08:00",
  "slot_end": "2026-11-22T10:00:00.000+08:00", "id_hash": "aa", "holder_masked": "张三", "status": "booked"},
 {"appointment_id": "ap-2", "code": "YY0000000002", "category": "B", "slot_start": "2026-11-22T09:00:00.000+08:00",
  "slot_end": "2026-11-22T09:30:00.000+08:00", "id_hash": "bb", "holder_masked": "李*", "status": "cancelled"},
 {"appointment_id": "ap-3", "code": "YY0000000003", "category": "A", "slot_start": "2026-11-23T00:30:00.000+08:00",
  "slot_end": "2026-11-23T01:00:00.000+08:00", "id_hash": "cc", "holder_masked": "王*", "status": "booked"}]}`

func TestPullAppointments(t *testing.T) {
	f := newPullFake(t)
	f.set(pullApptPath, pullGoodAppointments)
	r := newPullRig(t, f.srv.URL, nil)
	ctx := context.Background()
	if changed, err := r.p.PullAppointments(ctx); !changed || err != nil {
		t.Fatalf("PullAppointments = %v, %v", changed, err)
	}
	f.mu.Lock()
	q := f.queries[pullApptPath]
	f.mu.Unlock()
	if q != "from=2026-11-22&days=2" {
		t.Fatalf("query = %q; want from=2026-11-22&days=2", q)
	}
	today, err := r.p.Appointments(ctx, pullT0)
	if err != nil || len(today) != 2 {
		t.Fatalf("Appointments(today) = %+v, %v", today, err)
	}
	// In slot order; cancelled ones stay with their status; names only masked.
	if today[0].AppointmentID != "ap-2" || today[0].Status != AppointmentCancelled || today[1].HolderMasked != "张*" {
		t.Fatalf("today = %+v", today)
	}
	// 00:30 in Shanghai is the 23rd there, even though it is the 22nd in UTC.
	tomorrow, _ := r.p.Appointments(ctx, pullT0.Add(24*time.Hour))
	if len(tomorrow) != 1 || tomorrow[0].AppointmentID != "ap-3" || !tomorrow[0].SlotStart.Equal(time.Date(2026, 11, 22, 16, 30, 0, 0, time.UTC)) {
		t.Fatalf("tomorrow = %+v", tomorrow)
	}
	if changed, err := r.p.PullAppointments(ctx); changed || err != nil || f.count(f.got304, pullApptPath) != 1 {
		t.Fatalf("second pull = %v, %v; want a 304", changed, err)
	}

	// Offline: the platform is gone, check-in still finds the appointment.
	f.srv.Close()
	if _, err := r.p.PullAppointments(ctx); err == nil {
		t.Fatal("PullAppointments with the platform gone succeeded")
	}
	a, err := r.p.AppointmentByCode(ctx, " YY0000000001 ")
	if err != nil || a.AppointmentID != "ap-1" || a.Category != "A" || a.IDHash != "aa" {
		t.Fatalf("AppointmentByCode offline = %+v, %v", a, err)
	}
	if _, err := r.p.AppointmentByCode(ctx, "nope"); !errors.Is(err, ErrNoAppointment) {
		t.Fatalf("AppointmentByCode(nope) = %v", err)
	}
}

func TestPullAppointmentsRefused(t *testing.T) {
	f := newPullFake(t)
	f.set(pullApptPath, pullGoodAppointments)
	r := newPullRig(t, f.srv.URL, nil)
	ctx := context.Background()
	r.p.PullAppointments(ctx)
	for _, body := range []string{
		`{"list": []}`,
		strings.Replace(pullGoodAppointments, `"booked"`, `"maybe"`, 1),
		strings.Replace(pullGoodAppointments, `"ap-2"`, `"ap-1"`, 1),
		strings.Replace(pullGoodAppointments, `"slot_end": "2026-11-22T10:00:00.000+08:00"`, `"slot_end": "2026-11-22T09:00:00.000+08:00"`, 1),
	} {
		f.set(pullApptPath, body)
		var ref *RefusedError
		if _, err := r.p.PullAppointments(ctx); !errors.As(err, &ref) {
			t.Errorf("PullAppointments(%.60s...) = %v; want refused", body, err)
		}
		if got, _ := r.p.Appointments(ctx, pullT0); len(got) != 2 {
			t.Errorf("the stored appointments changed after a refused list: %d", len(got))
		}
		if st := r.health(t, ComponentAppointments); st.Code != "uplink.appointments_refused" {
			t.Errorf("health = %+v", st)
		}
	}
	// A new day asks for the new day without the old ETag, and drops the past.
	f.set(pullApptPath, pullGoodAppointments)
	r.clk.Advance(48 * time.Hour)
	f.set(pullApptPath, `{"appointments": []}`)
	if changed, err := r.p.PullAppointments(ctx); !changed || err != nil {
		t.Fatalf("pull on a new day = %v, %v", changed, err)
	}
	if got, _ := r.p.Appointments(ctx, pullT0); len(got) != 0 {
		t.Fatalf("past appointments kept: %+v", got)
	}
}
