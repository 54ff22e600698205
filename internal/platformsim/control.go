package platformsim

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// controlHandler serves /control/: fault switching, stats and test data. It has no
// authentication and is never faulted: serve it on loopback only.
//
//	GET  /control/faults                   Faults as JSON (durations as Go duration strings)
//	PUT  /control/faults                   replace the faults (the whole set)
//	GET  /control/stats?node=X             Stats of node X
//	GET  /control/events?node=X&stream=S   accepted events of a stream in arrival order
//	POST /control/enrol-code?hall=H        {"code": "..."}: a one-time enrolment code
//	POST /control/nodes?node=X&hall=H      {"token": "..."}: enrol X directly
//	PUT  /control/nodes/{node}/config      replace the node's config, byte for byte
//	PUT  /control/catalog                  replace the catalogue, byte for byte
//	POST /control/nodes/{node}/pickups     add a pickup: its JSON fields, "wrong_sha256": true to lie
//	POST /control/nodes/{node}/appointments add an appointment: its JSON fields
func (s *Sim) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /control/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("PUT /control/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&f); err != nil {
			writeError(w, http.StatusBadRequest, "bad_faults", err.Error())
			return
		}
		s.SetFaults(f)
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("GET /control/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats(r.URL.Query().Get("node")))
	})
	mux.HandleFunc("GET /control/events", func(w http.ResponseWriter, r *http.Request) {
		ev := s.Events(r.URL.Query().Get("node"), r.URL.Query().Get("stream"))
		if ev == nil {
			ev = []Event{}
		}
		writeJSON(w, http.StatusOK, map[string][]Event{"events": ev})
	})
	mux.HandleFunc("POST /control/enrol-code", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"code": s.NewEnrolCode(r.URL.Query().Get("hall"))})
	})
	mux.HandleFunc("POST /control/nodes", func(w http.ResponseWriter, r *http.Request) {
		node := r.URL.Query().Get("node")
		if !validNodeID(node) {
			writeError(w, http.StatusBadRequest, "bad_node", "query node= is required")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": s.AddNode(node, r.URL.Query().Get("hall"))})
	})
	mux.HandleFunc("PUT /control/nodes/{node}/config", func(w http.ResponseWriter, r *http.Request) {
		s.putRaw(w, r, func(b []byte) error { return s.SetConfig(r.PathValue("node"), b) })
	})
	mux.HandleFunc("PUT /control/catalog", func(w http.ResponseWriter, r *http.Request) {
		s.putRaw(w, r, s.SetCatalog)
	})
	mux.HandleFunc("POST /control/nodes/{node}/pickups", func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			pickupWire
			TitleEn     string `json:"title_en"`
			WrongSHA256 bool   `json:"wrong_sha256"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&p); err != nil {
			writeError(w, http.StatusBadRequest, "bad_pickup", err.Error())
			return
		}
		pk := Pickup{PickupID: p.PickupID, IDHash: p.IDHash, HolderMasked: p.HolderMasked, Title: p.Title,
			Pages: p.Pages, Copies: p.Copies}
		if p.ExpiresAt != "" {
			t, err := time.Parse(time.RFC3339Nano, p.ExpiresAt)
			if err != nil {
				writeError(w, http.StatusBadRequest, "bad_pickup", "expires_at must be RFC 3339")
				return
			}
			pk.ExpiresAt = t
		}
		if pk.PickupID == "" {
			pk.PickupID = "pk-" + randomHex(8)
		}
		pdf := CertificatePDF(p.TitleEn, p.Title, "*", pk.PickupID)
		if p.WrongSHA256 {
			pk.DocumentSHA256 = sha256Hex(append(pdf, '!'))
		}
		if err := s.addPickup(r.Context(), r.PathValue("node"), pk, pdf); err != nil {
			writeError(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"pickup_id": pk.PickupID})
	})
	mux.HandleFunc("POST /control/nodes/{node}/appointments", func(w http.ResponseWriter, r *http.Request) {
		var a appointmentWire
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&a); err != nil {
			writeError(w, http.StatusBadRequest, "bad_appointment", err.Error())
			return
		}
		start, err1 := time.Parse(time.RFC3339Nano, a.SlotStart)
		end, err2 := time.Parse(time.RFC3339Nano, a.SlotEnd)
		if err1 != nil || err2 != nil || a.Code == "" || a.Category == "" {
			writeError(w, http.StatusBadRequest, "bad_appointment", "code, category, slot_start and slot_end (RFC 3339) are required")
			return
		}
		ap := Appointment{AppointmentID: a.AppointmentID, Code: a.Code, Category: a.Category, SlotStart: start,
			SlotEnd: end, IDHash: a.IDHash, HolderMasked: a.HolderMasked, Status: a.Status}
		if ap.AppointmentID == "" {
			ap.AppointmentID = "ap-" + randomHex(8)
		}
		if err := s.addAppointment(r.Context(), r.PathValue("node"), ap); err != nil {
			writeError(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"appointment_id": ap.AppointmentID})
	})
	mux.HandleFunc("/control/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such control endpoint: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

func (s *Sim) putRaw(w http.ResponseWriter, r *http.Request, set func([]byte) error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if err := set(body); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
