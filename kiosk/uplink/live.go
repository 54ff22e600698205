package uplink

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/idnum"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// ErrOffline is a live call the platform did not answer in time, or could not answer: the
// UI says "offline" and offers what works without the platform.
var ErrOffline = errors.New("uplink: the platform is not reachable now")

// LiveTimeout bounds a live call from the citizen's side: the UI must know within 3 s.
// It is real time on purpose: a fake clock cannot drive a network round trip.
var LiveTimeout = 3 * time.Second

// ProgressQuery asks for the progress of one person's cases or of one case. Exactly one
// field is set. It never appears in logs: LogValue masks the ID number.
type ProgressQuery struct {
	IDNumber string
	CaseNo   string
}

// LogValue masks the ID number.
func (q ProgressQuery) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id_number", idnum.MaskID(q.IDNumber)), slog.String("case_no", q.CaseNo))
}

// ProgressAnswer is the platform's answer to a progress query.
type ProgressAnswer struct {
	Cases []Case `json:"cases"`
}

// Case is one application (办件) and where it stands.
type Case struct {
	CaseNo     string     `json:"case_no"`
	ItemName   string     `json:"item_name"`
	Status     string     `json:"status"`
	AcceptedAt time.Time  `json:"accepted_at"`
	DueAt      time.Time  `json:"due_at"`
	Light      string     `json:"light"` // green, yellow or red (e-supervision)
	Steps      []CaseStep `json:"steps"`
}

// CaseStep is one step of a case's approval.
type CaseStep struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
	By   string    `json:"by"`
}

// Progress asks the platform for case progress (POST /v1/progress, the ID number in the
// body). It answers within LiveTimeout: a timeout, a network failure, a 5xx or an answer
// not in the contract's shape (no cases list, say) is ErrOffline (wrapped); a 401/403 is
// ErrUnauthorized; a 4xx with the contract's error body is an *APIError. Nothing about
// the query is logged.
func (p *Puller) Progress(ctx context.Context, q ProgressQuery) (ProgressAnswer, error) {
	var body map[string]string
	switch id, no := idnum.Normalize(q.IDNumber), strings.TrimSpace(q.CaseNo); {
	case id != "" && no == "":
		body = map[string]string{"id_number": id}
	case no != "" && id == "":
		body = map[string]string{"case_no": no}
	default:
		return ProgressAnswer{}, errors.New("uplink: progress: give an ID number or a case number, not both")
	}
	ctx, cancel := context.WithTimeout(ctx, LiveTimeout)
	defer cancel()
	// A pointer, so that an answer without "cases" (or with null) is told from no cases.
	var wire struct {
		Cases *[]Case `json:"cases"`
	}
	err := p.c.Client.JSON(ctx, http.MethodPost, "/v1/progress", body, &wire)
	clear(body)
	var re *RetryError
	switch {
	case err == nil:
	case errors.As(err, &re):
		return ProgressAnswer{}, fmt.Errorf("%w (%s)", ErrOffline, liveCause(ctx, re))
	default:
		return ProgressAnswer{}, err
	}
	if wire.Cases == nil {
		return ProgressAnswer{}, fmt.Errorf("%w (the answer has no cases list)", ErrOffline)
	}
	a := ProgressAnswer{Cases: *wire.Cases}
	for i, c := range a.Cases {
		if c.CaseNo == "" || (c.Light != "green" && c.Light != "yellow" && c.Light != "red") {
			return ProgressAnswer{}, fmt.Errorf("%w (answer case %d has no case_no or an unknown light %q)", ErrOffline, i, c.Light)
		}
	}
	return a, nil
}

// liveCause says why a live call failed, without the request (which holds personal data).
func liveCause(ctx context.Context, re *RetryError) string {
	switch {
	case ctx.Err() != nil:
		return "no answer within " + LiveTimeout.String()
	case re.Status != 0:
		return fmt.Sprintf("HTTP %d", re.Status)
	default:
		return "network error"
	}
}

// Material is one scanned material of an application: its pages as files (JPEG, PDF).
type Material struct {
	LocalRef string // the application's local reference, as in application.submitted
	Name     string // the catalogue's material name
	Pages    int
	Files    [][]byte
}

// LogValue shows no content.
func (m Material) LogValue() slog.Value {
	return slog.GroupValue(slog.String("local_ref", m.LocalRef), slog.String("name", m.Name),
		slog.Int("pages", m.Pages), slog.Int("files", len(m.Files)))
}

// pullMaterialMax bounds a material so that its upload fits the platform's limits.
const pullMaterialMax = 32 << 20

// A background upload (FlushMaterials) may take materialUploadBase plus its size at
// materialUploadRate: a 32 MiB material gets about 9 minutes, enough for a link of
// 0.5 Mbit/s. The HTTP client's overall Timeout (35 s in kioskd) is not used for
// uploads: it would let no large material through a link under about 8 Mbit/s, and the
// business stream would wait behind that material for ever. Variables for tests.
var (
	materialUploadBase = 30 * time.Second
	materialUploadRate = 64 << 10 // bytes per second
)

// materialUploadTimeout is how long the upload of a body of size bytes may take.
func materialUploadTimeout(size int) time.Duration {
	return materialUploadBase + time.Duration(size)*time.Second/time.Duration(materialUploadRate)
}

type liveSealed struct {
	Name  string   `json:"name"`
	Pages int      `json:"pages"`
	Files [][]byte `json:"files"`
}

// QueueMaterial stores a scanned material for upload, encrypted under DocKey, with the
// Idempotency-Key of its upload made now, before any attempt: an upload retried after a
// crash sends the same key, and the platform answers the same material id. It returns
// the material's local id. Materials go up in the order they were queued.
func (p *Puller) QueueMaterial(ctx context.Context, m Material) (localID string, err error) {
	size := 0
	for _, f := range m.Files {
		size += len(f)
		if len(f) == 0 {
			return "", errors.New("uplink: material: an empty file")
		}
	}
	switch {
	case m.LocalRef == "" || strings.TrimSpace(m.Name) == "":
		return "", errors.New("uplink: material: local_ref and name are required")
	case m.Pages < 1 || len(m.Files) == 0:
		return "", errors.New("uplink: material: at least one page and one file")
	case size > pullMaterialMax:
		return "", fmt.Errorf("uplink: material: %d bytes is more than the %d an upload may hold", size, pullMaterialMax)
	}
	plain, err := json.Marshal(liveSealed{Name: m.Name, Pages: m.Pages, Files: m.Files})
	if err != nil {
		return "", fmt.Errorf("uplink: material: %w", err)
	}
	localID, key := store.NewUUID().String(), store.NewUUID().String()
	box, err := sealBytes(p.c.DocKey, plain, []byte(localID))
	clear(plain)
	if err != nil {
		return "", err
	}
	err = p.c.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`INSERT INTO uplink_materials (local_id, idempotency_key, local_ref, sealed, state, created_at)
			VALUES (?, ?, ?, ?, 'pending', ?)`, localID, key, m.LocalRef, box, store.FormatTime(p.clk.Now()))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("uplink: queueing material: %w", err)
	}
	return localID, nil
}

// UploadMaterial queues m (QueueMaterial) and uploads it at once, within LiveTimeout. On
// failure the material stays queued for FlushMaterials and the error is returned
// (ErrOffline when the platform is unreachable, or when earlier materials are still going
// up and this one cannot start within LiveTimeout).
func (p *Puller) UploadMaterial(ctx context.Context, m Material) (materialID string, err error) {
	localID, err := p.QueueMaterial(ctx, m)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, LiveTimeout)
	defer cancel()
	if err := p.matLock(ctx); err != nil {
		return "", fmt.Errorf("%w (earlier materials are still going up; the material stays queued: %w)", ErrOffline, err)
	}
	defer p.matUnlock()
	id, err := p.liveUpload(ctx, localID)
	var re *RetryError
	if errors.As(err, &re) {
		return "", fmt.Errorf("%w (%s; the material stays queued)", ErrOffline, liveCause(ctx, re))
	}
	return id, err
}

// FlushMaterials uploads every pending material in the order queued and records its
// material id. It stops at the first failure the platform may get over (network, 5xx,
// 401), so that a later material never overtakes an earlier one; a material the platform
// rejects (4xx) is marked rejected and shown in health, and the others go on.
//
// The sender must call it, and see MaterialsPending report 0, before it sends an
// application.submitted event, whose material_ids come from MaterialIDs.
//
// Each upload may take materialUploadTimeout of its size (and no longer than ctx allows).
func (p *Puller) FlushMaterials(ctx context.Context) error {
	if err := p.matLock(ctx); err != nil {
		return fmt.Errorf("uplink: materials: %w", err)
	}
	defer p.matUnlock()
	rows, err := p.c.DB.Read().QueryContext(ctx, `SELECT local_id FROM uplink_materials WHERE state = 'pending' ORDER BY local_id`)
	if err != nil {
		return fmt.Errorf("uplink: materials: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("uplink: materials: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	var rejected []error
	for _, id := range ids {
		if _, err := p.liveUpload(ctx, id); err != nil {
			var api *APIError
			if !errors.As(err, &api) {
				p.health.Report(ComponentMaterials, health.Degraded, "uplink.materials_pending", err.Error())
				return err
			}
			rejected = append(rejected, err)
		}
	}
	if err := errors.Join(rejected...); err != nil {
		p.health.Report(ComponentMaterials, health.Degraded, "uplink.material_rejected", err.Error())
		return err
	}
	p.health.Report(ComponentMaterials, health.OK, "", "")
	return nil
}

// liveUpload uploads one queued material with its stored key; the caller holds matMu. The
// upload's deadline is ctx's or materialUploadTimeout of its size, whichever comes first;
// the HTTP client's overall Timeout does not apply.
func (p *Puller) liveUpload(ctx context.Context, localID string) (string, error) {
	var key, ref, state string
	var box []byte
	var matID sql.NullString
	err := p.c.DB.Read().QueryRowContext(ctx, `SELECT idempotency_key, local_ref, sealed, state, material_id
		FROM uplink_materials WHERE local_id = ?`, localID).Scan(&key, &ref, &box, &state, &matID)
	if err != nil {
		return "", fmt.Errorf("uplink: material %s: %w", localID, err)
	}
	if state == "uploaded" {
		return matID.String, nil
	}
	plain, err := sealOpenBytes(p.c.DocKey, box, []byte(localID))
	if err != nil {
		return "", fmt.Errorf("uplink: material %s: %w", localID, err)
	}
	var m liveSealed
	err = json.Unmarshal(plain, &m)
	clear(plain)
	if err != nil {
		return "", fmt.Errorf("uplink: material %s: %w", localID, err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="meta"`)
	h.Set("Content-Type", "application/json")
	meta, _ := json.Marshal(map[string]any{"local_ref": ref, "name": m.Name, "pages": m.Pages})
	if w, err := mw.CreatePart(h); err == nil {
		w.Write(meta)
	}
	for i, f := range m.Files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="page%d"`, i+1))
		h.Set("Content-Type", http.DetectContentType(f))
		if w, err := mw.CreatePart(h); err == nil {
			w.Write(f)
		}
		clear(f)
	}
	mw.Close()
	var answer struct {
		MaterialID string `json:"material_id"`
	}
	body := buf.Bytes()
	uctx, cancel := context.WithTimeout(ctx, materialUploadTimeout(len(body)))
	r, err := p.c.Client.withoutTimeout().Do(uctx, http.MethodPost, "/v1/materials", &buf, mw.FormDataContentType(),
		http.Header{"Idempotency-Key": {key}})
	cancel()
	clear(body)
	var api *APIError
	if errors.As(err, &api) {
		p.c.DB.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			_, err := tx.Exec(`UPDATE uplink_materials SET state = 'rejected', attempts = attempts + 1, last_error = ?,
				sealed = x'' WHERE local_id = ?`, api.Error(), localID)
			return err
		})
		return "", fmt.Errorf("uplink: material %s rejected: %w", localID, err)
	}
	if err == nil && (json.Unmarshal(r.Body, &answer) != nil || answer.MaterialID == "") {
		err = &RetryError{Status: r.Status, Err: fmt.Errorf("POST /v1/materials: the answer has no material_id")}
	}
	if err != nil {
		p.c.DB.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			_, err := tx.Exec(`UPDATE uplink_materials SET attempts = attempts + 1, last_error = ? WHERE local_id = ?`, err.Error(), localID)
			return err
		})
		return "", err
	}
	err = p.c.DB.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE uplink_materials SET state = 'uploaded', material_id = ?, uploaded_at = ?, sealed = x'',
			attempts = attempts + 1, last_error = '' WHERE local_id = ?`, answer.MaterialID, store.FormatTime(p.clk.Now()), localID)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("uplink: recording material %s: %w", localID, err)
	}
	p.log.Info("uplink: material uploaded", "local_id", localID, "material_id", answer.MaterialID)
	return answer.MaterialID, nil
}

// MaterialsPending counts the materials still waiting to go up (not rejected).
func (p *Puller) MaterialsPending(ctx context.Context) (int, error) {
	var n int
	err := p.c.DB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM uplink_materials WHERE state = 'pending'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("uplink: materials: %w", err)
	}
	return n, nil
}

// MaterialIDs returns the platform's ids of the uploaded materials of an application, in
// the order queued, for the material_ids of its application.submitted event. pending
// counts those of the application not uploaded yet.
func (p *Puller) MaterialIDs(ctx context.Context, localRef string) (ids []string, pending int, err error) {
	rows, err := p.c.DB.Read().QueryContext(ctx, `SELECT state, COALESCE(material_id, '') FROM uplink_materials
		WHERE local_ref = ? ORDER BY local_id`, localRef)
	if err != nil {
		return nil, 0, fmt.Errorf("uplink: materials: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state, id string
		if err := rows.Scan(&state, &id); err != nil {
			return nil, 0, fmt.Errorf("uplink: materials: %w", err)
		}
		switch state {
		case "uploaded":
			ids = append(ids, id)
		case "pending":
			pending++
		}
	}
	return ids, pending, rows.Err()
}
