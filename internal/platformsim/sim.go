package platformsim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// DemoDeploymentKey is the deployment key the seeded pickups and appointments are hashed
// with when Config.DeploymentKey is empty; a node configured with it matches the demo people.
const DemoDeploymentKey = "hallkiosk-demo-deployment-key"

// timeLayout is RFC 3339 with milliseconds and the offset, as UPLINK.md asks.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Config is what Open needs.
type Config struct {
	DBPath string       // SQLite file of the platform's own store
	Clock  clock.Clock  // nil: real
	Log    *slog.Logger // nil: discard
	// DeploymentKey hashes the demo people's ID numbers into the seeded id_hash fields
	// (the real platform would get them from the nodes); empty: DemoDeploymentKey.
	DeploymentKey []byte
}

// Sim is a running platform simulator. It is safe for concurrent use.
type Sim struct {
	db     *sql.DB
	clock  clock.Clock
	log    *slog.Logger
	key    []byte // deployment key for seeded id hashes
	secret []byte // platform secret that keys the case index of ID numbers
	loc    *time.Location

	mu       sync.Mutex
	faults   Faults
	changed  chan struct{} // closed and replaced whenever the faults change
	requests map[string]int

	done      chan struct{}
	closeOnce sync.Once
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (or creates) the platform's store at cfg.DBPath, applies its migrations and
// seeds the catalogue and the demo cases the first time.
func Open(ctx context.Context, cfg Config) (*Sim, error) {
	if cfg.DBPath == "" {
		return nil, errors.New("platformsim: DBPath is empty: give the platform database's file path")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.DeploymentKey) == 0 {
		cfg.DeploymentKey = []byte(DemoDeploymentKey)
	}
	if dir := filepath.Dir(cfg.DBPath); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("platformsim: %w", err)
		}
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600) // no tzdata on this machine; China has no DST
	}
	dsn := "file:" + cfg.DBPath + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("platformsim: %w", err)
	}
	// One connection: every statement is serialised, which is plenty for a simulator and
	// rules out SQLITE_BUSY between our own connections.
	db.SetMaxOpenConns(1)
	s := &Sim{db: db, clock: cfg.Clock, log: cfg.Log.With("component", "platformsim"),
		key: cfg.DeploymentKey, loc: loc, changed: make(chan struct{}),
		requests: map[string]int{}, done: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.seed(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Sim) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("platformsim: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("platformsim: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("platformsim: migration %s: name must start with a number", name)
		}
		if n <= version {
			continue
		}
		body, _ := migrations.ReadFile(name)
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("platformsim: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("platformsim: migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
			tx.Rollback()
			return fmt.Errorf("platformsim: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("platformsim: %w", err)
		}
	}
	return nil
}

// Close releases hanging requests and closes the store.
func (s *Sim) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		err = s.db.Close()
	})
	return err
}

func (s *Sim) now() time.Time { return s.clock.Now().In(s.loc) }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// NewEnrolCode returns a one-time code for POST /v1/enrol that enrols a node in hall
// ("" for whatever hall the request names). Only its sha256 is stored.
func (s *Sim) NewEnrolCode(hall string) string {
	code := strings.ToUpper(randomHex(6))
	code = code[:4] + "-" + code[4:8] + "-" + code[8:]
	_, err := s.db.Exec("INSERT INTO enrol_codes (code_hash, hall, created_at) VALUES (?, ?, ?)",
		sha256Hex([]byte(code)), hall, s.now().Format(timeLayout))
	if err != nil {
		s.log.Error("store enrolment code", "err", err)
	}
	return code
}

// AddNode enrols node in hall directly, seeding its config and pickups, and returns its token.
func (s *Sim) AddNode(node, hall string) (token string) {
	token, err := s.enrolNode(context.Background(), node, hall, "{}")
	if err != nil {
		s.log.Error("add node", "node", node, "err", err)
	}
	return token
}

func (s *Sim) enrolNode(ctx context.Context, node, hall, inventory string) (string, error) {
	token := randomHex(32)
	_, err := s.db.ExecContext(ctx, `INSERT INTO nodes (node, hall, token_hash, enrolled_at, inventory)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (node) DO UPDATE SET hall = excluded.hall,
		token_hash = excluded.token_hash, enrolled_at = excluded.enrolled_at, inventory = excluded.inventory`,
		node, hall, sha256Hex([]byte(token)), s.now().Format(timeLayout), inventory)
	if err != nil {
		return "", fmt.Errorf("platformsim: enrol %s: %w", node, err)
	}
	if err := s.seedNode(ctx, node, hall); err != nil {
		return "", err
	}
	return token, nil
}

// nodeOfToken answers the node a bearer token belongs to, or "".
func (s *Sim) nodeOfToken(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return ""
	}
	var node string
	err := s.db.QueryRowContext(r.Context(), "SELECT node FROM nodes WHERE token_hash = ?",
		sha256Hex([]byte(strings.TrimSpace(tok)))).Scan(&node)
	if err != nil {
		return ""
	}
	return node
}

// auth checks the bearer token against the node of the path (pathNode "" for endpoints
// without one) and answers the caller's node, or writes 401/403 and answers "".
func (s *Sim) auth(w http.ResponseWriter, r *http.Request, pathNode string) string {
	node := s.nodeOfToken(r)
	if node == "" {
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing or unknown bearer token")
		return ""
	}
	if pathNode != "" && node != pathNode {
		writeError(w, http.StatusForbidden, "forbidden", "this token belongs to another node")
		return ""
	}
	return node
}

func (s *Sim) hallOf(ctx context.Context, node string) string {
	var hall string
	s.db.QueryRowContext(ctx, "SELECT hall FROM nodes WHERE node = ?", node).Scan(&hall)
	return hall
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"encode"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// writeTagged serves body with a strong ETag and answers 304 to a matching If-None-Match.
func writeTagged(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	etag := `"` + sha256Hex(body)[:32] + `"`
	w.Header().Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" {
		for _, m := range strings.Split(match, ",") {
			if m = strings.TrimSpace(m); m == etag || m == "*" || strings.TrimPrefix(m, "W/") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// Handler serves every /v1/ endpoint of UPLINK.md, behind the fault injector, and the
// /control/ endpoints, which are not faulted and must only be reachable from loopback.
func (s *Sim) Handler() http.Handler {
	v1 := http.NewServeMux()
	for _, e := range []struct {
		method, path string
		h            http.HandlerFunc
	}{
		{"POST", "/v1/enrol", s.handleEnrol},
		{"POST", "/v1/nodes/{node}/events", s.handleEvents},
		{"GET", "/v1/nodes/{node}/config", s.handleConfig},
		{"GET", "/v1/catalog", s.handleCatalog},
		{"GET", "/v1/nodes/{node}/pickups", s.handlePickups},
		{"GET", "/v1/pickups/{id}/document", s.handleDocument},
		{"GET", "/v1/nodes/{node}/appointments", s.handleAppointments},
		{"POST", "/v1/progress", s.handleProgress},
		{"POST", "/v1/materials", s.handleMaterials},
	} {
		v1.HandleFunc(e.method+" "+e.path, e.h)
		// Without a method the pattern catches the other methods: 405 in the error shape.
		v1.HandleFunc(e.path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", e.method)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", e.path+" takes "+e.method)
		})
	}
	v1.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	mux := http.NewServeMux()
	mux.Handle("/v1/", s.faulty(v1))
	mux.Handle("/control/", s.controlHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.URL.Path)
	})
	return mux
}

type enrolRequest struct {
	Code      string          `json:"code"`
	Node      string          `json:"node"`
	Hall      string          `json:"hall"`
	Inventory json.RawMessage `json:"inventory"`
}

func (s *Sim) handleEnrol(w http.ResponseWriter, r *http.Request) {
	var req enrolRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "body is not an enrolment request: "+err.Error())
		return
	}
	if !validNodeID(req.Node) {
		writeError(w, http.StatusBadRequest, "bad_node", "node must be 1-64 characters of a-z, 0-9, '-', '_' or '.'")
		return
	}
	ctx := r.Context()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "store unavailable")
		return
	}
	defer tx.Rollback()
	var hall string
	res, err := tx.ExecContext(ctx, "UPDATE enrol_codes SET used_at = ?, used_by = ? WHERE code_hash = ? AND used_at IS NULL",
		s.now().Format(timeLayout), req.Node, sha256Hex([]byte(strings.TrimSpace(req.Code))))
	if n, _ := rowsAffected(res, err); n != 1 {
		s.log.Warn("enrolment refused: unknown or used code", "node", req.Node)
		writeError(w, http.StatusUnauthorized, "bad_code", "unknown or already used enrolment code")
		return
	}
	tx.QueryRowContext(ctx, "SELECT hall FROM enrol_codes WHERE code_hash = ?", sha256Hex([]byte(strings.TrimSpace(req.Code)))).Scan(&hall)
	if err := tx.Commit(); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "store unavailable")
		return
	}
	if hall == "" {
		hall = req.Hall
	} else if req.Hall != "" && req.Hall != hall {
		s.log.Warn("enrolment names another hall than its code; the code's hall wins", "node", req.Node, "code_hall", hall, "hall", req.Hall)
	}
	if hall == "" {
		hall = "sim-hall"
	}
	inv := "{}"
	if len(req.Inventory) > 0 && json.Valid(req.Inventory) {
		inv = string(req.Inventory)
	}
	token, err := s.enrolNode(ctx, req.Node, hall, inv)
	if err != nil {
		s.log.Error("enrol", "node", req.Node, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "store unavailable")
		return
	}
	s.log.Info("node enrolled", "node", req.Node, "hall", hall)
	writeJSON(w, http.StatusOK, map[string]string{"token": token, "hall_name": hallName(hall), "timezone": "Asia/Shanghai"})
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func validNodeID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
