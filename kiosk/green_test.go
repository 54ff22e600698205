package kiosk

import (
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
	"github.com/hallkiosk/hallkiosk/queue"
)

func withCheck(first17 string) string {
	c, err := idnum.CheckDigit(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

func TestAgeOn(t *testing.T) {
	day := time.Date(2026, 11, 22, 9, 0, 0, 0, hallZone)
	for _, tc := range []struct {
		id   string
		want int
	}{
		{testID, 76},
		{withCheck("11010519661122001"), 60}, // 60th birthday today
		{withCheck("11010519661123001"), 59}, // tomorrow
		{withCheck("11010519900101001"), 36},
		{"110105199013450011", -1}, // month 13
		{"1101051990", -1},
	} {
		if got := ageOn(tc.id, day); got != tc.want {
			t.Errorf("ageOn(%s) = %d; want %d", idnum.MaskID(tc.id), got, tc.want)
		}
	}
}

// TestGreenChannel: a card holder of 60 or more gets the green channel and is told so; a
// younger one does not; GreenAge < 0 turns it off.
func TestGreenChannel(t *testing.T) {
	for _, tc := range []struct {
		name     string
		id       string
		greenAge int
		want     string
	}{
		{"76 years", testID, 0, queue.PriorityGreen},
		{"60 today", withCheck("11010519661123001"), 0, queue.PriorityGreen}, // t0 is 2026-11-23
		{"36 years", withCheck("11010519900101001"), 0, queue.PriorityNormal},
		{"turned off", testID, -1, queue.PriorityNormal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(c *Config) { c.GreenAge = tc.greenAge })
			r.do(CardPlaced{IDNumber: tc.id, Name: testName})
			r.tap("cat:A")
			r.want(ScreenTicketDone)
			if len(r.taker.reqs) != 1 || r.taker.reqs[0].Priority != tc.want {
				t.Fatalf("Take requests = %+v; want priority %q", r.taker.reqs, tc.want)
			}
			if got := has(r.view(), r.zh("done.green")); got != (tc.want == queue.PriorityGreen) {
				t.Errorf("green channel notice shown = %v; want %v", got, !got)
			}
		})
	}
}

func TestAppointmentBookReplaceKeepsUsed(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, hallZone)
	b, err := NewAppointmentBook([]Appointment{{ID: "a1", Code: "C1", Category: "A", Start: at, End: at.Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	b.MarkUsed("a1", "A001")
	if err := b.Replace([]Appointment{{ID: "a1", Code: "C1", Category: "A", Start: at, End: at.Add(time.Hour)},
		{ID: "a2", Code: "C2", Category: "B", Start: at, End: at.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Find("C2"); !ok {
		t.Error("Find(C2) after Replace: not found")
	}
	if tk, ok := b.Used("a1"); !ok || tk != "A001" {
		t.Errorf("Used(a1) after Replace = %q, %v; want A001 kept", tk, ok)
	}
	if err := b.Replace([]Appointment{{ID: "", Code: "C3"}}); err == nil {
		t.Error("Replace with an invalid entry succeeded")
	}
	if _, ok := b.Find("C2"); !ok {
		t.Error("a refused Replace changed the book")
	}
}
