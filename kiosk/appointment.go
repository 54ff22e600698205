package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
	"github.com/hallkiosk/hallkiosk/queue"
)

// Appointment is a booked slot (预约) a citizen checks in at the terminal.
type Appointment struct {
	ID         string    `json:"id"`
	Code       string    `json:"code"` // what the QR code holds and the citizen types
	Category   string    `json:"category"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	NameMasked string    `json:"name_masked"`
}

// LogValue shows the appointment without the name (masked as it is) or the code.
func (a Appointment) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.ID), slog.String("category", a.Category),
		slog.Time("start", a.Start), slog.Time("end", a.End))
}

// AppointmentBook is the day's appointments (from a fixture file until the platform sends
// them) and which of them were checked in. It is safe for concurrent use.
type AppointmentBook struct {
	mu     sync.Mutex
	byCode map[string]Appointment
	byID   map[string]Appointment
	used   map[string]string // appointment id -> ticket number
}

// NewAppointmentBook indexes appts; codes and ids must be unique.
func NewAppointmentBook(appts []Appointment) (*AppointmentBook, error) {
	b := &AppointmentBook{byCode: map[string]Appointment{}, byID: map[string]Appointment{}, used: map[string]string{}}
	var errs []error
	for i, a := range appts {
		a.Code, a.ID = strings.TrimSpace(a.Code), strings.TrimSpace(a.ID)
		a.NameMasked = idnum.MaskName(a.NameMasked) // already masked in the file; make sure
		switch {
		case a.ID == "" || a.Code == "" || a.Category == "":
			errs = append(errs, fmt.Errorf("kiosk: appointments[%d]: set id, code and category", i))
		case !a.Start.Before(a.End):
			errs = append(errs, fmt.Errorf("kiosk: appointments[%d] (%s): start %v is not before end %v", i, a.ID, a.Start, a.End))
		case b.byCode[a.Code].ID != "" || b.byID[a.ID].ID != "":
			errs = append(errs, fmt.Errorf("kiosk: appointments[%d] (%s): id or code %q appears twice", i, a.ID, a.Code))
		default:
			b.byCode[a.Code], b.byID[a.ID] = a, a
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// Replace swaps in a new list of appointments (a fresh pull from the platform), keeping what
// was checked in. Invalid entries are an error and leave the book as it was.
func (b *AppointmentBook) Replace(appts []Appointment) error {
	nb, err := NewAppointmentBook(appts)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.byCode, b.byID = nb.byCode, nb.byID
	b.mu.Unlock()
	return nil
}

// LoadAppointments reads a JSON array of appointments (unknown fields are an error).
func LoadAppointments(path string) (*AppointmentBook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kiosk: appointments: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var appts []Appointment
	if err := dec.Decode(&appts); err != nil {
		return nil, fmt.Errorf("kiosk: appointments %s: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("kiosk: appointments %s: data after the array", path)
	}
	return NewAppointmentBook(appts)
}

// Find returns the appointment whose code (or id) is s.
func (b *AppointmentBook) Find(s string) (Appointment, bool) {
	s = strings.TrimSpace(s)
	b.mu.Lock()
	defer b.mu.Unlock()
	if a, ok := b.byCode[s]; ok {
		return a, true
	}
	a, ok := b.byID[s]
	return a, ok
}

// MarkUsed records that appointment id got ticket.
func (b *AppointmentBook) MarkUsed(id, ticket string) {
	b.mu.Lock()
	b.used[id] = ticket
	b.mu.Unlock()
}

// Used returns the ticket appointment id got, if it was checked in.
func (b *AppointmentBook) Used(id string) (ticket string, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ticket, ok = b.used[id]
	return ticket, ok
}

// The appointment flow: scan or type -> check the slot -> printing -> done, or early, late,
// unknown, used.

func (s *Session) enterAppointment() {
	clear(s.code)
	s.code = s.code[:0]
	if s.appt != nil {
		*s.appt = Appointment{}
		s.appt = nil
	}
	s.screen = ScreenApptEnter
}

func (s *Session) codeScanned(now time.Time, code string) {
	if !s.moreUntil.IsZero() {
		return
	}
	switch s.screen {
	case ScreenAttract, ScreenHome, ScreenApptEnter, ScreenApptUnknown:
	default:
		s.log.Debug("code ignored", "screen", s.screen)
		return
	}
	if s.screen == ScreenAttract {
		s.wake(now, ScreenHome)
	}
	s.lastInput = now
	if !s.appointmentOK() {
		return // home explains why
	}
	s.checkIn(now, code)
}

func (s *Session) tapAppointment(ctx context.Context, now time.Time, id string) {
	switch {
	case s.screen == ScreenApptEnter && strings.HasPrefix(id, "appt:"):
		switch key := strings.TrimPrefix(id, "appt:"); {
		case len(key) == 1 && key[0] >= '0' && key[0] <= '9':
			if len(s.code) < maxAppointmentNo {
				s.code = append(s.code, key[0])
			}
		case key == "del" && len(s.code) > 0:
			s.code[len(s.code)-1] = 0
			s.code = s.code[:len(s.code)-1]
		case key == "ok" && len(s.code) > 0:
			code := string(s.code)
			clear(s.code)
			s.code = s.code[:0]
			s.checkIn(now, code)
		}
	case s.screen == ScreenApptEnter && id == "back":
		s.wipeFlow()
		s.screen = ScreenHome
	case s.screen == ScreenApptUnknown && id == "retype":
		s.enterAppointment()
	case (s.screen == ScreenApptEarly || s.screen == ScreenApptLate) && id == "normal":
		s.wipeFlow()
		if s.ticketOK() {
			s.enterCategories(ctx)
		} else {
			s.screen = ScreenHome
		}
	}
}

// checkIn looks the code up and, within the slot, asks for a priority ticket.
func (s *Session) checkIn(now time.Time, code string) {
	if s.d.Appointments == nil {
		return
	}
	a, ok := s.d.Appointments.Find(code)
	if !ok {
		s.screen = ScreenApptUnknown
		s.log.Info("appointment not found")
		return
	}
	s.appt = &a
	if t, used := s.d.Appointments.Used(a.ID); used {
		s.apptTicket, s.screen = t, ScreenApptUsed
		return
	}
	switch {
	case now.Before(a.Start.Add(-s.cfg.EarlyCheckIn)):
		s.screen = ScreenApptEarly
	case now.After(a.End.Add(s.cfg.LateGrace)):
		s.screen = ScreenApptLate
	default:
		s.request(queue.IssueRequest{Category: a.Category, Source: queue.SourceAppointment, AppointmentID: a.ID,
			Priority: queue.PriorityAppointment}, a.NameMasked)
		return
	}
	s.log.Info("appointment outside its slot", "appointment", a, "screen", s.screen)
}
