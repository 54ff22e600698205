package platformsim

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

// Case is an application (办件) whose progress the platform answers.
type Case struct {
	CaseNo     string
	ItemName   string
	Status     string
	AcceptedAt time.Time
	DueAt      time.Time // end of the time limit
	FinishedAt time.Time // zero while open
	Steps      []Step
}

// Step is one stage an application went through.
type Step struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
	By   string    `json:"by"`
}

// Light is the e-supervision signal of c at now: red once past due (for a finished case,
// finished past due), yellow on the due day itself, green before it.
func Light(c Case, now time.Time, loc *time.Location) string {
	end := now
	if !c.FinishedAt.IsZero() {
		end = c.FinishedAt
	}
	end, due := end.In(loc), c.DueAt.In(loc)
	switch {
	case end.After(due):
		return "red"
	case end.Format("2006-01-02") == due.Format("2006-01-02"):
		return "yellow"
	}
	return "green"
}

// idKey indexes cases by ID number without storing it: HMAC under the platform's secret.
func (s *Sim) idKey(id string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(idnum.Normalize(id)))
	return hex.EncodeToString(m.Sum(nil))
}

// AddCase stores (or replaces) an application of the citizen with idNumber.
func (s *Sim) AddCase(idNumber string, c Case) error {
	return s.addCase(context.Background(), idNumber, c)
}

func (s *Sim) addCase(ctx context.Context, idNumber string, c Case) error {
	steps, _ := json.Marshal(c.Steps)
	var finished any
	if !c.FinishedAt.IsZero() {
		finished = c.FinishedAt.In(s.loc).Format(timeLayout)
	}
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO cases (case_no, id_key, item_name, status, accepted_at,
		due_at, finished_at, steps) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.CaseNo, s.idKey(idNumber), c.ItemName,
		c.Status, c.AcceptedAt.In(s.loc).Format(timeLayout), c.DueAt.In(s.loc).Format(timeLayout), finished, string(steps))
	return err
}

type stepWire struct {
	Name string `json:"name"`
	At   string `json:"at"`
	By   string `json:"by"`
}

type caseWire struct {
	CaseNo     string     `json:"case_no"`
	ItemName   string     `json:"item_name"`
	Status     string     `json:"status"`
	AcceptedAt string     `json:"accepted_at"`
	DueAt      string     `json:"due_at"`
	Light      string     `json:"light"`
	Steps      []stepWire `json:"steps"`
}

func (s *Sim) handleProgress(w http.ResponseWriter, r *http.Request) {
	node := s.auth(w, r, "")
	if node == "" {
		return
	}
	var req struct {
		IDNumber string `json:"id_number"`
		CaseNo   string `json:"case_no"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "body must be {\"id_number\"} or {\"case_no\"}")
		return
	}
	var where, arg string
	switch {
	case req.IDNumber != "" && req.CaseNo == "":
		if !idnum.ValidID(req.IDNumber) {
			// Never echo or log the number itself.
			writeError(w, http.StatusBadRequest, "bad_id_number", "id_number is not a valid ID number (GB 11643)")
			return
		}
		where, arg = "id_key = ?", s.idKey(req.IDNumber)
		s.log.Info("progress query", "node", node, "id", idnum.MaskID(req.IDNumber))
	case req.CaseNo != "" && req.IDNumber == "":
		where, arg = "case_no = ?", strings.TrimSpace(req.CaseNo)
		s.log.Info("progress query", "node", node, "case_no", arg)
	default:
		writeError(w, http.StatusBadRequest, "bad_request", "give exactly one of id_number and case_no")
		return
	}
	rows, err := s.db.QueryContext(r.Context(), `SELECT case_no, item_name, status, accepted_at, due_at,
		coalesce(finished_at, ''), steps FROM cases WHERE `+where+` ORDER BY accepted_at`, arg)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "progress unavailable")
		return
	}
	defer rows.Close()
	now := s.now()
	out := []caseWire{}
	for rows.Next() {
		var c Case
		var accepted, due, finished, steps string
		if rows.Scan(&c.CaseNo, &c.ItemName, &c.Status, &accepted, &due, &finished, &steps) != nil {
			continue
		}
		c.AcceptedAt, _ = time.Parse(time.RFC3339Nano, accepted)
		c.DueAt, _ = time.Parse(time.RFC3339Nano, due)
		if finished != "" {
			c.FinishedAt, _ = time.Parse(time.RFC3339Nano, finished)
		}
		json.Unmarshal([]byte(steps), &c.Steps)
		cw := caseWire{CaseNo: c.CaseNo, ItemName: c.ItemName, Status: c.Status, AcceptedAt: accepted,
			DueAt: due, Light: Light(c, now, s.loc), Steps: []stepWire{}}
		for _, st := range c.Steps {
			cw.Steps = append(cw.Steps, stepWire{st.Name, st.At.In(s.loc).Format(timeLayout), st.By})
		}
		out = append(out, cw)
	}
	writeJSON(w, http.StatusOK, map[string][]caseWire{"cases": out})
}
