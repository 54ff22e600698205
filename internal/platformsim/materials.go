package platformsim

import (
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// MaxMaterialBytes bounds one POST /v1/materials.
const MaxMaterialBytes = 64 << 20

// handleMaterials takes scanned materials. The simulator keeps their metadata, sizes and
// count, not the images. A repeated Idempotency-Key of the same node answers 201 with the
// first material_id without reading the files again.
func (s *Sim) handleMaterials(w http.ResponseWriter, r *http.Request) {
	node := s.auth(w, r, "")
	if node == "" {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 128 {
		writeError(w, http.StatusBadRequest, "idempotency_key_required", "header Idempotency-Key (a UUID) is required")
		return
	}
	var id string
	err := s.db.QueryRowContext(r.Context(), "SELECT material_id FROM materials WHERE node = ? AND idem_key = ?", node, key).Scan(&id)
	if err == nil {
		writeJSON(w, http.StatusCreated, map[string]string{"material_id": id})
		return
	}
	if !errors.Is(err, sql.ErrNoRows) {
		writeError(w, http.StatusInternalServerError, "internal", "store unavailable")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxMaterialBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "body must be multipart/form-data")
		return
	}
	var meta struct {
		LocalRef string `json:"local_ref"`
		Name     string `json:"name"`
		Pages    int    `json:"pages"`
	}
	haveMeta, files, size := false, 0, int64(0)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "multipart: "+err.Error())
			return
		}
		switch part.FormName() {
		case "meta":
			if err := json.NewDecoder(io.LimitReader(part, 64<<10)).Decode(&meta); err != nil {
				writeError(w, http.StatusBadRequest, "bad_meta", "part meta must be JSON {local_ref, name, pages}")
				return
			}
			haveMeta = true
		case "file":
			n, err := io.Copy(sha256.New(), part)
			if err != nil {
				writeError(w, http.StatusRequestEntityTooLarge, "too_large", "materials are at most 64 MiB per request")
				return
			}
			files++
			size += n
		}
		part.Close()
	}
	if !haveMeta || meta.LocalRef == "" || meta.Name == "" || meta.Pages < 0 {
		writeError(w, http.StatusBadRequest, "bad_meta", "part meta with local_ref and name is required")
		return
	}
	if files == 0 {
		writeError(w, http.StatusBadRequest, "no_file", "at least one part file is required")
		return
	}
	id = "mat-" + randomHex(12)
	_, err = s.db.ExecContext(r.Context(), `INSERT INTO materials (node, idem_key, material_id, local_ref, name, pages,
		files, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node, idem_key) DO NOTHING`,
		node, key, id, meta.LocalRef, meta.Name, meta.Pages, files, size, s.now().Format(timeLayout))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "store unavailable")
		return
	}
	// Two requests with one key may race: the first row wins, both answer its id.
	s.db.QueryRowContext(r.Context(), "SELECT material_id FROM materials WHERE node = ? AND idem_key = ?", node, key).Scan(&id)
	s.log.Info("material received", "node", node, "material_id", id, "files", files, "bytes", size)
	writeJSON(w, http.StatusCreated, map[string]string{"material_id": id})
}
