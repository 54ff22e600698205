package platformsim

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Pickup is a finished certificate waiting at a hall, as GET /v1/nodes/{node}/pickups lists it.
type Pickup struct {
	PickupID       string
	IDHash         string // hex HMAC-SHA256(deployment key, ID number), taken as given
	HolderMasked   string
	Title          string
	Pages, Copies  int
	DocumentSHA256 string // "": computed from the PDF; set it wrong on purpose to test the node
	ExpiresAt      time.Time
}

type pickupWire struct {
	PickupID       string `json:"pickup_id"`
	IDHash         string `json:"id_hash"`
	HolderMasked   string `json:"holder_masked"`
	Title          string `json:"title"`
	Pages          int    `json:"pages"`
	Copies         int    `json:"copies"`
	DocumentSHA256 string `json:"document_sha256"`
	ExpiresAt      string `json:"expires_at"`
}

// AddPickup makes pdf available to node as pickup p (replacing one with the same id).
func (s *Sim) AddPickup(node string, p Pickup, pdf []byte) {
	if err := s.addPickup(context.Background(), node, p, pdf); err != nil {
		s.log.Error("add pickup", "node", node, "err", err)
	}
}

func (s *Sim) addPickup(ctx context.Context, node string, p Pickup, pdf []byte) error {
	if p.PickupID == "" {
		p.PickupID = "pk-" + randomHex(8)
	}
	if p.DocumentSHA256 == "" {
		p.DocumentSHA256 = sha256Hex(pdf)
	}
	p.Pages, p.Copies = max(p.Pages, 1), max(p.Copies, 1)
	if p.ExpiresAt.IsZero() {
		p.ExpiresAt = s.now().Add(30 * 24 * time.Hour)
	}
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO pickups (pickup_id, node, id_hash, holder_masked, title,
		pages, copies, sha256, expires_at, pdf) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.PickupID, node, p.IDHash, p.HolderMasked, p.Title, p.Pages, p.Copies, p.DocumentSHA256,
		p.ExpiresAt.In(s.loc).Format(timeLayout), pdf)
	return err
}

func (s *Sim) handlePickups(w http.ResponseWriter, r *http.Request) {
	node := s.auth(w, r, r.PathValue("node"))
	if node == "" {
		return
	}
	rows, err := s.db.QueryContext(r.Context(), `SELECT pickup_id, id_hash, holder_masked, title, pages, copies,
		sha256, expires_at FROM pickups WHERE node = ? ORDER BY pickup_id`, node)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "pickups unavailable")
		return
	}
	defer rows.Close()
	now := s.now()
	list := []pickupWire{}
	for rows.Next() {
		var p pickupWire
		if err := rows.Scan(&p.PickupID, &p.IDHash, &p.HolderMasked, &p.Title, &p.Pages, &p.Copies,
			&p.DocumentSHA256, &p.ExpiresAt); err != nil {
			continue
		}
		if exp, err := time.Parse(time.RFC3339Nano, p.ExpiresAt); err == nil && !exp.After(now) {
			continue // expired pickups are no longer offered
		}
		list = append(list, p)
	}
	body, _ := json.Marshal(map[string][]pickupWire{"pickups": list})
	writeTagged(w, r, "application/json; charset=utf-8", body)
}

func (s *Sim) handleDocument(w http.ResponseWriter, r *http.Request) {
	node := s.auth(w, r, "")
	if node == "" {
		return
	}
	var owner string
	var pdf []byte
	err := s.db.QueryRowContext(r.Context(), "SELECT node, pdf FROM pickups WHERE pickup_id = ?", r.PathValue("id")).Scan(&owner, &pdf)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, "not_found", "no such pickup")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal", "document unavailable")
		return
	case owner != node:
		writeError(w, http.StatusForbidden, "forbidden", "this pickup is for another node")
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.WriteHeader(http.StatusOK)
	w.Write(pdf)
}
