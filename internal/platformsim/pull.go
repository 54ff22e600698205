package platformsim

import (
	"context"
	"net/http"
)

// catalogFile is the shape of GET /v1/catalog (and of seed/catalog.json).
type catalogFile struct {
	Version string        `json:"version"`
	Items   []CatalogItem `json:"items"`
}

// CatalogItem is one service item with its 办事指南, as UPLINK.md names the fields.
type CatalogItem struct {
	Code              string     `json:"code"`
	Name              string     `json:"name"`
	Department        string     `json:"department"`
	Category          string     `json:"category"`
	QueueCategory     string     `json:"queue_category"`
	LegalBasis        string     `json:"legal_basis"`
	Conditions        string     `json:"conditions"`
	Materials         []Material `json:"materials"`
	Steps             []string   `json:"steps"`
	TimeLimitWorkdays int        `json:"time_limit_workdays"`
	Fee               string     `json:"fee"`
	OnlineApply       bool       `json:"online_apply"`
	PickupAtKiosk     bool       `json:"pickup_at_kiosk"`
}

// Material is one document an item asks for.
type Material struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	Copies   int    `json:"copies"`
	Note     string `json:"note"`
}

func (s *Sim) handleConfig(w http.ResponseWriter, r *http.Request) {
	node := s.auth(w, r, r.PathValue("node"))
	if node == "" {
		return
	}
	var body []byte
	if err := s.db.QueryRowContext(r.Context(), "SELECT body FROM configs WHERE node = ?", node).Scan(&body); err != nil {
		body = defaultConfig(node, s.hallOf(r.Context(), node))
	}
	writeTagged(w, r, "application/json; charset=utf-8", body)
}

func (s *Sim) handleCatalog(w http.ResponseWriter, r *http.Request) {
	if s.auth(w, r, "") == "" {
		return
	}
	var body []byte
	if err := s.db.QueryRowContext(r.Context(), "SELECT body FROM catalog WHERE k = 1").Scan(&body); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "catalogue unavailable")
		return
	}
	writeTagged(w, r, "application/json; charset=utf-8", body)
}

// SetConfig replaces what GET /v1/nodes/{node}/config serves, byte for byte, so a test can
// push a new config or a broken one.
func (s *Sim) SetConfig(node string, body []byte) error {
	_, err := s.db.ExecContext(context.Background(), `INSERT INTO configs (node, body) VALUES (?, ?)
		ON CONFLICT (node) DO UPDATE SET body = excluded.body`, node, body)
	return err
}

// SetCatalog replaces what GET /v1/catalog serves, byte for byte.
func (s *Sim) SetCatalog(body []byte) error {
	_, err := s.db.ExecContext(context.Background(), `INSERT INTO catalog (k, body) VALUES (1, ?)
		ON CONFLICT (k) DO UPDATE SET body = excluded.body`, body)
	return err
}
