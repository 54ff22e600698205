package platformsim

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

// Appointment is one booked slot at a hall.
type Appointment struct {
	AppointmentID string
	Code          string // what the citizen's QR code holds
	Category      string // queue category code
	SlotStart     time.Time
	SlotEnd       time.Time
	IDHash        string
	HolderMasked  string
	Status        string // "booked" or "cancelled"
}

type appointmentWire struct {
	AppointmentID string `json:"appointment_id"`
	Code          string `json:"code"`
	Category      string `json:"category"`
	SlotStart     string `json:"slot_start"`
	SlotEnd       string `json:"slot_end"`
	IDHash        string `json:"id_hash"`
	HolderMasked  string `json:"holder_masked"`
	Status        string `json:"status"`
}

// AddAppointment books a for node, besides the generated ones (replacing one with the same id).
func (s *Sim) AddAppointment(node string, a Appointment) {
	if err := s.addAppointment(context.Background(), node, a); err != nil {
		s.log.Error("add appointment", "node", node, "err", err)
	}
}

func (s *Sim) addAppointment(ctx context.Context, node string, a Appointment) error {
	if a.AppointmentID == "" {
		a.AppointmentID = "ap-" + randomHex(8)
	}
	if a.Status == "" {
		a.Status = "booked"
	}
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO appointments (appointment_id, node, code, category,
		slot_start, slot_end, id_hash, holder_masked, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.AppointmentID, node, a.Code, a.Category, a.SlotStart.In(s.loc).Format(timeLayout),
		a.SlotEnd.In(s.loc).Format(timeLayout), a.IDHash, a.HolderMasked, a.Status)
	return err
}

// categoriesOf reads the queue category codes from node's config; a config that does not
// parse yields the general category "A".
func (s *Sim) categoriesOf(ctx context.Context, node string) []string {
	var body []byte
	s.db.QueryRowContext(ctx, "SELECT body FROM configs WHERE node = ?", node).Scan(&body)
	var c struct {
		Categories []struct {
			Code string `json:"code"`
		} `json:"categories"`
	}
	var out []string
	if json.Unmarshal(body, &c) == nil {
		for _, cat := range c.Categories {
			if cat.Code != "" {
				out = append(out, cat.Code)
			}
		}
	}
	if len(out) == 0 {
		return []string{"A"}
	}
	return out[:min(len(out), 3)] // a few categories take appointments
}

// generated are the seeded appointments of one day: two per category, derived from the
// node, date and category only, so every request sees the same ones.
func (s *Sim) generated(node string, day time.Time, cats []string) []Appointment {
	var out []Appointment
	for ci, cat := range cats {
		for i := range 2 {
			h := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%s|%d", node, day.Format("2006-01-02"), cat, i))
			who := DemoPeople[(day.YearDay()+ci+i)%len(DemoPeople)]
			start := day.Add(time.Duration(9+5*i)*time.Hour + time.Duration(ci*30)*time.Minute)
			a := Appointment{AppointmentID: "ap-" + hex.EncodeToString(h[:6]),
				Code:     fmt.Sprintf("%012d", binary.BigEndian.Uint64(h[8:16])%1e12), // digits: the terminal's keypad types them
				Category: cat, SlotStart: start, SlotEnd: start.Add(30 * time.Minute),
				IDHash: idnum.Hash(s.key, who.IDNumber), HolderMasked: idnum.MaskName(who.Name), Status: "booked"}
			if h[20]%7 == 0 {
				a.Status = "cancelled"
			}
			out = append(out, a)
		}
	}
	return out
}

func (s *Sim) handleAppointments(w http.ResponseWriter, r *http.Request) {
	node := s.auth(w, r, r.PathValue("node"))
	if node == "" {
		return
	}
	now := s.now()
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.loc)
	if f := r.URL.Query().Get("from"); f != "" {
		t, err := time.ParseInLocation("2006-01-02", f, s.loc)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_from", "from must be a date YYYY-MM-DD")
			return
		}
		from = t
	}
	days := 1
	if d := r.URL.Query().Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 31 {
			writeError(w, http.StatusBadRequest, "bad_days", "days must be 1..31")
			return
		}
		days = n
	}
	ctx := r.Context()
	cats := s.categoriesOf(ctx, node)
	var list []Appointment
	for i := range days {
		list = append(list, s.generated(node, from.AddDate(0, 0, i), cats)...)
	}
	to := from.AddDate(0, 0, days)
	rows, err := s.db.QueryContext(ctx, `SELECT appointment_id, code, category, slot_start, slot_end, id_hash,
		holder_masked, status FROM appointments WHERE node = ?`, node)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "appointments unavailable")
		return
	}
	for rows.Next() {
		var a Appointment
		var start, end string
		if rows.Scan(&a.AppointmentID, &a.Code, &a.Category, &start, &end, &a.IDHash, &a.HolderMasked, &a.Status) != nil {
			continue
		}
		a.SlotStart, _ = time.Parse(time.RFC3339Nano, start)
		a.SlotEnd, _ = time.Parse(time.RFC3339Nano, end)
		if !a.SlotStart.Before(from) && a.SlotStart.Before(to) {
			list = append(list, a)
		}
	}
	rows.Close()
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].SlotStart.Equal(list[j].SlotStart) {
			return list[i].SlotStart.Before(list[j].SlotStart)
		}
		return list[i].AppointmentID < list[j].AppointmentID
	})
	wire := make([]appointmentWire, len(list))
	for i, a := range list {
		wire[i] = appointmentWire{a.AppointmentID, a.Code, a.Category, a.SlotStart.In(s.loc).Format(timeLayout),
			a.SlotEnd.In(s.loc).Format(timeLayout), a.IDHash, a.HolderMasked, a.Status}
	}
	body, _ := json.Marshal(map[string][]appointmentWire{"appointments": wire})
	writeTagged(w, r, "application/json; charset=utf-8", body)
}
