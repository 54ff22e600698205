package uplink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLiveProgress(t *testing.T) {
	f := newPullFake(t)
	var body string
	var url string
	f.handler["/v1/progress"] = func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body, url = string(b), r.URL.String()
		w.Write([]byte(`{"cases": [{"case_no": "C2026-1", "item_name": "营业执照变更登记", "status": "审核中",
			"accepted_at": "2026-11-20T10:00:00.000+08:00", "due_at": "2026-11-25T17:00:00.000+08:00", "light": "green",
			"steps": [{"name": "受理", "at": "2026-11-20T10:00:00.000+08:00", "by": "综合窗口"}]}]}`))
	}
	r := newPullRig(t, f.srv.URL, nil)
	ctx := context.Background()
	a, err := r.p.Progress(ctx, ProgressQuery{IDNumber: "11010519491231002x"})
	if err != nil || len(a.Cases) != 1 || a.Cases[0].Light != "green" || a.Cases[0].Steps[0].By != "综合窗口" {
		t.Fatalf("Progress = %+v, %v", a, err)
	}
	if body != `{"id_number":"11010519491231002X"}` || strings.Contains(url, "1101") {
		t.Fatalf("platform saw body %s at %s", body, url)
	}
	if _, err := r.p.Progress(ctx, ProgressQuery{IDNumber: "1", CaseNo: "2"}); err == nil {
		t.Fatal("Progress with both fields succeeded")
	}
	if leaks := r.logs.Leaks(); len(leaks) > 0 || strings.Contains(string(r.logs.Bytes()), "1101051949") {
		t.Fatalf("ID number in the logs: %s", r.logs.Bytes())
	}
}

// TestLiveProgressShape: an answer without the cases list is a failed attempt (ErrOffline),
// never "no cases"; an empty list is.
func TestLiveProgressShape(t *testing.T) {
	f := newPullFake(t)
	r := newPullRig(t, f.srv.URL, nil)
	for _, tc := range []struct {
		body  string
		cases int // -1: ErrOffline
	}{
		{`{"cases": []}`, 0},
		{`{"cases": [{"case_no": "C1", "light": "red"}], "more": 1}`, 1},
		{`{"ok": true}`, -1},
		{`null`, -1},
		{` null`, -1},
		{`{}`, -1},
		{`{"cases": null}`, -1},
		{`{"cases": {}}`, -1},
		{`{"cases": [{"case_no": 7, "light": "red"}]}`, -1},
		{`[]`, -1},
		{``, -1},
	} {
		f.set("/v1/progress", tc.body)
		a, err := r.p.Progress(context.Background(), ProgressQuery{CaseNo: "C1"})
		switch {
		case tc.cases < 0 && !errors.Is(err, ErrOffline):
			t.Errorf("Progress(answer %q) = %+v, %v; want ErrOffline", tc.body, a, err)
		case tc.cases >= 0 && (err != nil || len(a.Cases) != tc.cases):
			t.Errorf("Progress(answer %q) = %+v, %v; want %d cases", tc.body, a, err, tc.cases)
		}
	}
}

// TestLiveProgressHangs uses real time: the citizen must hear "offline" within 3 seconds.
func TestLiveProgressHangs(t *testing.T) {
	f := newPullFake(t)
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	f.handler["/v1/progress"] = func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // so the server notices when the client hangs up
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	r := newPullRig(t, f.srv.URL, nil)
	start := time.Now()
	_, err := r.p.Progress(context.Background(), ProgressQuery{CaseNo: "C2026-1"})
	took := time.Since(start)
	if !errors.Is(err, ErrOffline) {
		t.Fatalf("Progress against a hanging platform = %v; want ErrOffline", err)
	}
	if took > LiveTimeout+500*time.Millisecond || took < LiveTimeout-100*time.Millisecond {
		t.Fatalf("Progress gave up after %v; want about %v", took, LiveTimeout)
	}

	// Unreachable: ErrOffline at once.
	once.Do(func() { close(release) })
	f.srv.Close()
	start = time.Now()
	if _, err := r.p.Progress(context.Background(), ProgressQuery{CaseNo: "C2026-1"}); !errors.Is(err, ErrOffline) || time.Since(start) > time.Second {
		t.Fatalf("Progress with the platform down = %v after %v", err, time.Since(start))
	}
}

// pullMaterialFake is a POST /v1/materials that answers the same id for the same key.
type pullMaterialFake struct {
	mu      sync.Mutex
	byKey   map[string]string
	metas   []map[string]any
	files   []int
	failing int // answer 500 after recording, this many times: the answer is lost
}

func (m *pullMaterialFake) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := r.Header.Get("Idempotency-Key")
	mr, err := r.MultipartReader()
	if key == "" || err != nil {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error": {"code": "bad_request", "message": "key and multipart required"}}`))
		return
	}
	var meta map[string]any
	files := 0
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		switch p.FormName() {
		case "meta":
			json.NewDecoder(p).Decode(&meta)
		case "file":
			files++
		}
	}
	id, ok := m.byKey[key]
	if !ok {
		id = fmt.Sprintf("mat-%d", len(m.byKey)+1)
		m.byKey[key] = id
		m.metas = append(m.metas, meta)
		m.files = append(m.files, files)
	}
	if m.failing > 0 {
		m.failing--
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"material_id": %q}`, id)
}

func TestLiveMaterialsIdempotentAcrossCrash(t *testing.T) {
	f := newPullFake(t)
	mf := &pullMaterialFake{byKey: map[string]string{}, failing: 1}
	f.handler["/v1/materials"] = mf.serve
	dbPath := filepath.Join(t.TempDir(), "node.db")
	db := pullOpenDB(t, dbPath)
	r := newPullRig(t, f.srv.URL, db)
	ctx := context.Background()

	m := Material{LocalRef: "app-1", Name: "身份证复印件", Pages: 2, Files: [][]byte{[]byte("\xff\xd8\xff page 1"), []byte("\xff\xd8\xff page 2")}}
	localID, err := r.p.QueueMaterial(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.p.QueueMaterial(ctx, Material{LocalRef: "app-1", Name: "申请书", Pages: 1, Files: [][]byte{[]byte("%PDF-1.4 form")}}); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	db.Read().QueryRow(`SELECT sealed FROM uplink_materials WHERE local_id = ?`, localID).Scan(&raw)
	if strings.Contains(string(raw), "page 1") || len(raw) == 0 {
		t.Fatal("a pending material is stored in clear")
	}
	// The platform records the first upload but its answer is lost.
	if err := r.p.FlushMaterials(ctx); err == nil {
		t.Fatal("FlushMaterials with a lost answer succeeded")
	}
	if n, _ := r.p.MaterialsPending(ctx); n != 2 {
		t.Fatalf("MaterialsPending = %d; want 2 (the second must not overtake the first)", n)
	}

	// Crash: the node restarts on the same database and flushes again.
	db.Close()
	db2 := pullOpenDB(t, dbPath)
	r2 := newPullRig(t, f.srv.URL, db2)
	if err := r2.p.FlushMaterials(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := r2.p.MaterialsPending(ctx); n != 0 {
		t.Fatalf("MaterialsPending after the flush = %d", n)
	}
	ids, pending, err := r2.p.MaterialIDs(ctx, "app-1")
	if err != nil || pending != 0 || len(ids) != 2 || ids[0] != "mat-1" || ids[1] != "mat-2" {
		t.Fatalf("MaterialIDs = %v, %d, %v; want [mat-1 mat-2]: the retry must reuse the first key", ids, pending, err)
	}
	if len(mf.byKey) != 2 || mf.metas[0]["local_ref"] != "app-1" || mf.metas[0]["name"] != "身份证复印件" || mf.metas[0]["pages"] != 2.0 || mf.files[0] != 2 {
		t.Fatalf("platform saw keys %v metas %v files %v", mf.byKey, mf.metas, mf.files)
	}
	db2.Read().QueryRow(`SELECT sealed FROM uplink_materials WHERE local_id = ?`, localID).Scan(&raw)
	if len(raw) != 0 {
		t.Fatal("an uploaded material's scan is still stored")
	}

	// UploadMaterial: queued and sent at once.
	id, err := r2.p.UploadMaterial(ctx, Material{LocalRef: "app-2", Name: "照片", Pages: 1, Files: [][]byte{[]byte("\x89PNG")}})
	if err != nil || id != "mat-3" {
		t.Fatalf("UploadMaterial = %q, %v", id, err)
	}
	// Offline: it stays queued and says so.
	f.srv.Close()
	if _, err := r2.p.UploadMaterial(ctx, Material{LocalRef: "app-3", Name: "照片", Pages: 1, Files: [][]byte{[]byte("\x89PNG")}}); !errors.Is(err, ErrOffline) {
		t.Fatalf("UploadMaterial offline = %v; want ErrOffline", err)
	}
	if n, _ := r2.p.MaterialsPending(ctx); n != 1 {
		t.Fatalf("MaterialsPending after an offline upload = %d; want 1", n)
	}
}

func TestLiveQueueMaterialChecks(t *testing.T) {
	r := newPullRig(t, "http://127.0.0.1:1", nil)
	for _, m := range []Material{
		{Name: "x", Pages: 1, Files: [][]byte{{1}}},
		{LocalRef: "a", Pages: 1, Files: [][]byte{{1}}},
		{LocalRef: "a", Name: "x", Pages: 0, Files: [][]byte{{1}}},
		{LocalRef: "a", Name: "x", Pages: 1},
		{LocalRef: "a", Name: "x", Pages: 1, Files: [][]byte{{}}},
	} {
		if _, err := r.p.QueueMaterial(context.Background(), m); err == nil {
			t.Errorf("QueueMaterial(%v) succeeded", m)
		}
	}
}
