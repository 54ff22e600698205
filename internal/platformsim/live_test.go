package platformsim

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"testing"
	"time"
)

func TestEnrolOneTime(t *testing.T) {
	f := newFixture(t)
	code := f.sim.NewEnrolCode("hall-0571-01")
	req := map[string]any{"code": code, "node": "hall-0571-01-t03", "hall": "hall-0571-01", "inventory": map[string]any{"printer": "sim"}}
	a := f.must(t, "POST", "/v1/enrol", "", req)
	var got struct{ Token, HallName, Timezone string }
	json.Unmarshal(a.body, &struct {
		Token    *string `json:"token"`
		HallName *string `json:"hall_name"`
		Timezone *string `json:"timezone"`
	}{&got.Token, &got.HallName, &got.Timezone})
	if a.status != http.StatusOK || len(got.Token) != 64 || got.HallName != "西湖区政务服务中心" || got.Timezone != "Asia/Shanghai" {
		t.Fatalf("enrol: %v; want 200 with a 64-hex token, hall name and time zone", a)
	}
	if b := f.must(t, "POST", "/v1/enrol", "", req); b.status != http.StatusUnauthorized || errorCode(t, b) != "bad_code" {
		t.Errorf("second use of a code: %v; want 401", b)
	}
	req["code"] = "NOPE-NOPE-NOPE"
	if b := f.must(t, "POST", "/v1/enrol", "", req); b.status != http.StatusUnauthorized {
		t.Errorf("unknown code: %v; want 401", b)
	}
	// The token works, and only its hash is stored.
	if b := f.must(t, "GET", "/v1/nodes/hall-0571-01-t03/config", got.Token, nil); b.status != http.StatusOK {
		t.Errorf("config with the new token: %d; want 200", b.status)
	}
	var n int
	f.sim.db.QueryRow("SELECT count(*) FROM nodes WHERE token_hash = ?", got.Token).Scan(&n)
	if n != 0 {
		t.Error("the token is stored in clear")
	}
	var c struct{ Code string }
	json.Unmarshal(f.must(t, "POST", "/control/enrol-code?hall=h2", "", nil).body, &c)
	if b := f.must(t, "POST", "/v1/enrol", "", map[string]any{"code": c.Code, "node": "h2-t01"}); b.status != http.StatusOK {
		t.Errorf("enrol with a control code: %v; want 200", b)
	}
	if b := f.must(t, "POST", "/v1/enrol", "", map[string]any{"code": f.sim.NewEnrolCode(""), "node": "bad node/"}); b.status != http.StatusBadRequest {
		t.Errorf("bad node id: %v; want 400", b)
	}
}

func TestProgressLights(t *testing.T) {
	f := newFixture(t)
	id := demoID("44030519880808123")
	due := time.Date(2026, 11, 25, 23, 59, 59, 0, f.sim.loc) // Wednesday
	if err := f.sim.AddCase(id, Case{CaseNo: "C1", ItemName: "不动产转移登记", Status: "审核中",
		AcceptedAt: t0.Add(-48 * time.Hour), DueAt: due, Steps: []Step{{"受理", t0.Add(-48 * time.Hour), "综合窗口"}}}); err != nil {
		t.Fatal(err)
	}
	light := func(body any) string {
		t.Helper()
		a := f.must(t, "POST", "/v1/progress", f.token, body)
		var r struct {
			Cases []caseWire `json:"cases"`
		}
		if err := json.Unmarshal(a.body, &r); err != nil || len(r.Cases) != 1 || len(r.Cases[0].Steps) != 1 {
			t.Fatalf("progress %v: %v; want one case with its step", body, a)
		}
		return r.Cases[0].Light
	}
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{
		{0, "green"},                           // Monday
		{24 * time.Hour, "green"},              // Tuesday
		{24 * time.Hour, "yellow"},             // Wednesday, the last day
		{14*time.Hour + 31*time.Minute, "red"}, // Thursday 00:01
	} {
		f.clk.Advance(step.advance)
		if got := light(map[string]string{"id_number": id}); got != step.want {
			t.Errorf("at %v light = %s; want %s", f.clk.Now(), got, step.want)
		}
	}
	if got := light(map[string]string{"case_no": "C1"}); got != "red" {
		t.Errorf("by case_no light = %s; want red", got)
	}
	for _, body := range []any{map[string]string{"id_number": "110105194912310020"}, map[string]string{}, "x",
		map[string]string{"id_number": id, "case_no": "C1"}} {
		if a := f.must(t, "POST", "/v1/progress", f.token, body); a.status != http.StatusBadRequest {
			t.Errorf("progress %v: %v; want 400", body, a)
		} else if bytes.Contains(a.body, []byte(id[:17])) {
			t.Errorf("error echoes the ID number: %s", a.body)
		}
	}
	// The seeded demo cases answer too.
	a := f.must(t, "POST", "/v1/progress", f.token, map[string]string{"id_number": DemoPeople[0].IDNumber})
	if !bytes.Contains(a.body, []byte(`"case_no"`)) {
		t.Errorf("demo person's progress: %v; want cases", a)
	}
}

func TestLight(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	due := time.Date(2026, 11, 25, 23, 59, 59, 0, loc)
	for _, tc := range []struct {
		now, finished time.Time
		want          string
	}{
		{due.Add(-25 * time.Hour), time.Time{}, "green"},
		{due.Add(-time.Hour), time.Time{}, "yellow"},
		{due.Add(time.Second), time.Time{}, "red"},
		{due.Add(72 * time.Hour), due.Add(-48 * time.Hour), "green"}, // finished in time stays green
		{due.Add(72 * time.Hour), due.Add(time.Hour), "red"},
	} {
		if got := Light(Case{DueAt: due, FinishedAt: tc.finished}, tc.now, loc); got != tc.want {
			t.Errorf("Light(due %v, now %v, finished %v) = %s; want %s", due, tc.now, tc.finished, got, tc.want)
		}
	}
}

func materialBody(t *testing.T, meta string, files int) (*bytes.Buffer, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="meta"`)
	h.Set("Content-Type", "application/json")
	p, _ := w.CreatePart(h)
	p.Write([]byte(meta))
	for i := range files {
		fw, _ := w.CreateFormFile("file", "page.jpg")
		fw.Write(bytes.Repeat([]byte{byte(i)}, 1000))
	}
	w.Close()
	return &b, w.FormDataContentType()
}

func TestMaterialsIdempotent(t *testing.T) {
	f := newFixture(t)
	send := func(key, meta string, files int) answer {
		body, ct := materialBody(t, meta, files)
		hdr := []string{"Content-Type", ct}
		if key != "" {
			hdr = append(hdr, "Idempotency-Key", key)
		}
		return f.must(t, "POST", "/v1/materials", f.token, body.Bytes(), hdr...)
	}
	meta := `{"local_ref":"app-1","name":"身份证复印件","pages":2}`
	first := send("0192f1c2-aaaa-7000-8000-000000000001", meta, 2)
	again := send("0192f1c2-aaaa-7000-8000-000000000001", meta, 2)
	other := send("0192f1c2-aaaa-7000-8000-000000000002", meta, 1)
	id := func(a answer) string {
		var m struct {
			MaterialID string `json:"material_id"`
		}
		json.Unmarshal(a.body, &m)
		return m.MaterialID
	}
	if first.status != http.StatusCreated || again.status != http.StatusCreated || id(first) == "" || id(first) != id(again) {
		t.Errorf("same key: %v then %v; want 201 twice with the same material_id", first, again)
	}
	if other.status != http.StatusCreated || id(other) == id(first) {
		t.Errorf("another key: %v; want 201 with a new material_id", other)
	}
	for name, a := range map[string]answer{
		"no key":  send("", meta, 1),
		"no file": send("k3", meta, 0),
		"no meta": send("k4", `{"pages":1}`, 1),
	} {
		if a.status != http.StatusBadRequest {
			t.Errorf("%s: %v; want 400", name, a)
		} else {
			errorCode(t, a)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := t.TempDir() + "/p.db"
	s, err := Open(t.Context(), Config{DBPath: path})
	if err != nil {
		t.Fatal(err)
	}
	token := s.AddNode("n1", "sim-hall")
	if err := s.SetCatalog([]byte(`{"version":"pushed","items":[]}`)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(t.Context(), Config{DBPath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptestServer(t, s)
	req, _ := http.NewRequest("GET", srv+"/v1/catalog", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cat catalogFile
	json.NewDecoder(resp.Body).Decode(&cat)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || cat.Version != "pushed" {
		t.Errorf("after reopen: %d version %q; want the token valid and the pushed catalogue kept", resp.StatusCode, cat.Version)
	}
	a := httpPostJSON(t, srv+"/v1/progress", token, `{"id_number":"`+DemoPeople[0].IDNumber+`"}`)
	if !bytes.Contains(a, []byte(`"case_no"`)) || bytes.Count(a, []byte(`"case_no"`)) != 2 {
		t.Errorf("demo cases after reopen: %s; want the two seeded once", a)
	}
}
