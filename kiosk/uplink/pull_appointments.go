package uplink

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// Appointment is a slot booked at this hall, as the platform lists it.
type Appointment struct {
	AppointmentID string    `json:"appointment_id"`
	Code          string    `json:"code"` // what the citizen's QR code holds
	Category      string    `json:"category"`
	SlotStart     time.Time `json:"slot_start"`
	SlotEnd       time.Time `json:"slot_end"`
	IDHash        string    `json:"id_hash"`
	HolderMasked  string    `json:"holder_masked"`
	Status        string    `json:"status"` // booked or cancelled
}

// Appointment statuses.
const (
	AppointmentBooked    = "booked"
	AppointmentCancelled = "cancelled"
)

// LogValue leaves out the code (it admits the holder) and the hash.
func (a Appointment) LogValue() slog.Value {
	return slog.GroupValue(slog.String("appointment_id", a.AppointmentID), slog.String("category", a.Category),
		slog.Time("slot_start", a.SlotStart), slog.String("status", a.Status))
}

// ErrNoAppointment is a code or id the stored appointments do not hold.
var ErrNoAppointment = errors.New("uplink: no such appointment")

// pullParseAppointments decodes and validates the platform's list; one bad entry refuses the
// whole list, so the node never holds half of a day.
func pullParseAppointments(data []byte) ([]Appointment, error) {
	var l struct {
		Appointments *[]Appointment `json:"appointments"`
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("appointments are not the contract's shape: %w", err)
	}
	if l.Appointments == nil {
		return nil, errors.New(`appointments are not the contract's shape: no "appointments" list`)
	}
	var errs []error
	ids := map[string]bool{}
	for i, a := range *l.Appointments {
		f := fmt.Sprintf("appointments[%d]", i)
		switch {
		case strings.TrimSpace(a.AppointmentID) == "" || strings.TrimSpace(a.Code) == "" || a.Category == "":
			errs = append(errs, fmt.Errorf("%s: appointment_id, code and category are required", f))
		case ids[a.AppointmentID]:
			errs = append(errs, fmt.Errorf("%s: appointment_id %q appears twice", f, a.AppointmentID))
		case a.SlotStart.IsZero() || !a.SlotStart.Before(a.SlotEnd):
			errs = append(errs, fmt.Errorf("%s (%s): slot_start must be before slot_end", f, a.AppointmentID))
		case a.Status != AppointmentBooked && a.Status != AppointmentCancelled:
			errs = append(errs, fmt.Errorf("%s (%s): status %q is not booked or cancelled", f, a.AppointmentID, a.Status))
		}
		ids[a.AppointmentID] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return *l.Appointments, nil
}

// PullAppointments fetches the appointments from today (hall-local) for AppointmentDays
// days and replaces the stored ones of those days; days before today are dropped. A 304
// keeps them; a bad list is refused (*RefusedError, uplink.appointments_refused).
func (p *Puller) PullAppointments(ctx context.Context) (changed bool, err error) {
	p.pullMu[pullAppointments].Lock()
	defer p.pullMu[pullAppointments].Unlock()
	changed, err = p.pullAppointments(ctx)
	p.pullReport(ComponentAppointments, err)
	return changed, err
}

func (p *Puller) pullAppointments(ctx context.Context) (bool, error) {
	now := p.clk.Now().In(p.loc)
	from := now.Format(time.DateOnly)
	query := "from=" + from + "&days=" + strconv.Itoa(p.c.AppointmentDays)
	old, _, err := p.pullLoad(ctx, "appointments")
	if err != nil {
		return false, err
	}
	etag := old.ETag
	if string(old.Body) != query {
		etag = "" // that ETag was for another day's list
	}
	path := "/v1/nodes/" + url.PathEscape(p.c.Client.Node) + "/appointments?" + query
	r, notModified, err := p.pullGet(ctx, path, etag)
	if err != nil {
		return false, err
	}
	if notModified {
		return false, p.pullTouch(ctx, "appointments")
	}
	list, err := pullParseAppointments(r.Body)
	if err != nil {
		return false, &RefusedError{What: "appointments", Err: err}
	}
	fetched := store.FormatTime(p.clk.Now())
	err = p.c.DB.Write(ctx, func(tx *store.Tx) error {
		// The list is the truth for the days it covers; older days are past.
		if _, err := tx.Exec(`DELETE FROM downlink_appointments`); err != nil {
			return err
		}
		for _, a := range list {
			_, err := tx.Exec(`INSERT INTO downlink_appointments (appointment_id, code, category, slot_start,
				slot_end, day, id_hash, holder_masked, status, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				a.AppointmentID, strings.TrimSpace(a.Code), a.Category, store.FormatTime(a.SlotStart), store.FormatTime(a.SlotEnd),
				a.SlotStart.In(p.loc).Format(time.DateOnly), a.IDHash, idnum.MaskName(a.HolderMasked), a.Status, fetched)
			if err != nil {
				return err
			}
		}
		return pullSave(tx, "appointments", r.Header.Get("ETag"), []byte(query), p.clk.Now())
	})
	if err != nil {
		return false, fmt.Errorf("uplink: storing appointments: %w", err)
	}
	p.log.Info("uplink: appointments updated", "from", from, "count", len(list))
	return true, nil
}

const pullApptColumns = `appointment_id, code, category, slot_start, slot_end, id_hash, holder_masked, status`

func pullScanAppointment(sc interface{ Scan(...any) error }) (Appointment, error) {
	var a Appointment
	var start, end string
	if err := sc.Scan(&a.AppointmentID, &a.Code, &a.Category, &start, &end, &a.IDHash, &a.HolderMasked, &a.Status); err != nil {
		return Appointment{}, err
	}
	var err1, err2 error
	a.SlotStart, err1 = store.ParseTime(start)
	a.SlotEnd, err2 = store.ParseTime(end)
	return a, errors.Join(err1, err2)
}

// Appointments returns the stored appointments whose slot starts on day's date in the
// hall's time zone, cancelled ones included, in slot order. It works offline.
func (p *Puller) Appointments(ctx context.Context, day time.Time) ([]Appointment, error) {
	rows, err := p.c.DB.Read().QueryContext(ctx, `SELECT `+pullApptColumns+` FROM downlink_appointments
		WHERE day = ? ORDER BY slot_start, appointment_id`, day.In(p.loc).Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("uplink: appointments: %w", err)
	}
	defer rows.Close()
	var out []Appointment
	for rows.Next() {
		a, err := pullScanAppointment(rows)
		if err != nil {
			return nil, fmt.Errorf("uplink: appointments: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AppointmentByCode finds a stored appointment by the code its QR holds (the latest slot
// if a code was reused). It works offline; ErrNoAppointment if there is none.
func (p *Puller) AppointmentByCode(ctx context.Context, code string) (Appointment, error) {
	a, err := pullScanAppointment(p.c.DB.Read().QueryRowContext(ctx, `SELECT `+pullApptColumns+`
		FROM downlink_appointments WHERE code = ? ORDER BY slot_start DESC LIMIT 1`, strings.TrimSpace(code)))
	if errors.Is(err, sql.ErrNoRows) {
		return Appointment{}, ErrNoAppointment
	}
	if err != nil {
		return Appointment{}, fmt.Errorf("uplink: appointment: %w", err)
	}
	return a, nil
}
