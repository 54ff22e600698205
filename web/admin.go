// Package web serves the node's local admin HTTP API: health, metrics and a status page.
package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

// MetricsFunc writes extra Prometheus text-format samples (with their HELP and TYPE lines).
type MetricsFunc func(w io.Writer)

// Admin is the admin API's handler set.
type Admin struct {
	NodeID  string
	Version string
	Started time.Time
	Health  *health.Registry
	Devices func() devices.Report
	Metrics []MetricsFunc
	// Sim, when not nil, maps a simulated device's name to its simulator's control, shown
	// as buttons on the status page in simulator mode.
	Sim map[string]SimControl
	// Tests maps a device name to its self-test (a printer prints a test ticket), run by
	// POST /api/devices/{name}/test and the status page's buttons.
	Tests map[string]func(context.Context) error
	// Dispense takes and prints a ticket in a category (the ticket dispenser path), for
	// technicians and for trying the kiosk before the touch UI; nil on nodes without one.
	Dispense func(ctx context.Context, category string) (any, error)
	// Screen serves the citizen screen as it is now (PNG), at GET /api/screen.png.
	Screen http.HandlerFunc
	// Layout serves the screen's name and touch targets (JSON), at GET /api/screen/layout.
	Layout http.HandlerFunc
	// Uplink serves the uplink's state and dead letters (JSON) at GET /api/uplink; Requeue
	// sends dead letter {id} again (POST /api/uplink/dead/{id}/requeue); Resume lets the
	// uplink send again after the platform refused the token (POST /api/uplink/resume,
	// answering {"resumed": whether sending had stopped}); Enrol enrols the node with a
	// platform (POST /api/uplink/enrol {"platform", "code"}).
	Uplink, Requeue, Resume, Enrol http.HandlerFunc
	// Tap presses the citizen screen at ?x=&y= (simulator mode only), at POST /api/screen/tap.
	Tap http.HandlerFunc
	// Restart stops kioskd cleanly and starts it again in place (POST /api/restart), e.g.
	// to apply a pending node config from the platform at once.
	Restart    http.HandlerFunc
	Categories []string
	Now        func() time.Time
}

// SimControl is one simulator's control: a command line in, an answer line out.
type SimControl struct {
	Kind string // driver: idcard, escpos, barcode
	Exec func(string) string
}

// Handler returns the admin routes.
func (a *Admin) Handler() http.Handler {
	if a.Now == nil {
		a.Now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /api/health", a.apiHealth)
	mux.HandleFunc("GET /metrics", a.metrics)
	mux.HandleFunc("GET /{$}", a.statusPage)
	mux.HandleFunc("POST /api/sim/{name}", a.simControl)
	mux.HandleFunc("POST /api/devices/{name}/test", a.deviceTest)
	mux.HandleFunc("POST /api/dispense", a.dispense)
	if a.Screen != nil {
		mux.HandleFunc("GET /api/screen.png", a.Screen)
	}
	if a.Layout != nil {
		mux.HandleFunc("GET /api/screen/layout", a.Layout)
	}
	if a.Uplink != nil {
		mux.HandleFunc("GET /api/uplink", a.Uplink)
		mux.HandleFunc("POST /api/uplink/dead/{id}/requeue", a.Requeue)
		mux.HandleFunc("POST /api/uplink/enrol", a.Enrol)
		if a.Resume != nil {
			mux.HandleFunc("POST /api/uplink/resume", a.Resume)
		}
	}
	if a.Tap != nil {
		mux.HandleFunc("POST /api/screen/tap", a.Tap)
	}
	if a.Restart != nil {
		mux.HandleFunc("POST /api/restart", a.Restart)
	}
	return mux
}

// HealthDoc is the JSON of /api/health.
type HealthDoc struct {
	Node       string          `json:"node"`
	Version    string          `json:"version"`
	UptimeS    int64           `json:"uptime_s"`
	Started    time.Time       `json:"started"` // when this kioskd (re)started
	Overall    health.State    `json:"overall"`
	Components []health.Status `json:"components"`
	Devices    devices.Report  `json:"devices"`
	Simulated  bool            `json:"simulated"`
}

func (a *Admin) doc() HealthDoc {
	all := a.Health.All()
	d := HealthDoc{Node: a.NodeID, Version: a.Version, UptimeS: int64(a.Now().Sub(a.Started).Seconds()), Started: a.Started,
		Overall: health.Overall(all), Components: all, Simulated: a.Sim != nil}
	if a.Devices != nil {
		d.Devices = a.Devices()
	}
	return d
}

func (a *Admin) apiHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(a.doc())
}

var states = []health.State{health.OK, health.Degraded, health.Down, health.Skipped}

func (a *Admin) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprintf(w, "# HELP hallkiosk_build_info Build information.\n# TYPE hallkiosk_build_info gauge\n")
	fmt.Fprintf(w, "hallkiosk_build_info{version=%q,node=%q} 1\n", a.Version, a.NodeID)
	fmt.Fprintf(w, "# HELP hallkiosk_uptime_seconds Seconds since kioskd started.\n# TYPE hallkiosk_uptime_seconds gauge\n")
	fmt.Fprintf(w, "hallkiosk_uptime_seconds %d\n", int64(a.Now().Sub(a.Started).Seconds()))
	all := a.Health.All()
	fmt.Fprintf(w, "# HELP hallkiosk_component_state 1 for the state each component is in.\n# TYPE hallkiosk_component_state gauge\n")
	for _, st := range all {
		for _, s := range states {
			v := 0
			if st.State == s {
				v = 1
			}
			fmt.Fprintf(w, "hallkiosk_component_state{component=%q,state=%q,code=%q} %d\n", st.Component, s, st.Code, v)
		}
	}
	fmt.Fprintf(w, "# HELP hallkiosk_component_state_since_seconds Unix time the component entered its state.\n# TYPE hallkiosk_component_state_since_seconds gauge\n")
	for _, st := range all {
		fmt.Fprintf(w, "hallkiosk_component_state_since_seconds{component=%q} %d\n", st.Component, st.Since.Unix())
	}
	for _, m := range a.Metrics {
		m(w)
	}
}

func (a *Admin) simControl(w http.ResponseWriter, r *http.Request) {
	sc, ok := a.Sim[r.PathValue("name")]
	if !ok {
		http.Error(w, "no such simulator", http.StatusNotFound)
		return
	}
	f := sc.Exec
	cmd := r.FormValue("cmd")
	if cmd == "" {
		http.Error(w, "missing cmd (try \"help\")", http.StatusBadRequest)
		return
	}
	answer := f(cmd)
	if r.FormValue("back") != "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if strings.HasPrefix(answer, "err") {
		w.WriteHeader(http.StatusBadRequest)
	}
	io.WriteString(w, answer+"\n")
}

func (a *Admin) deviceTest(w http.ResponseWriter, r *http.Request) {
	test, ok := a.Tests[r.PathValue("name")]
	if !ok {
		http.Error(w, "no self-test for this device", http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	err := test(ctx)
	if r.FormValue("back") != "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err != nil {
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, "test failed: "+err.Error()+"\n")
		return
	}
	io.WriteString(w, "test passed\n")
}

func (a *Admin) dispense(w http.ResponseWriter, r *http.Request) {
	if a.Dispense == nil {
		http.Error(w, "this node has no ticket dispenser (it needs the terminal and hall roles and a ticket printer)", http.StatusNotFound)
		return
	}
	res, err := a.Dispense(r.Context(), r.FormValue("category"))
	if r.FormValue("back") != "" && err == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, err.Error()+"\n")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(res)
}

var page = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(now, t time.Time) string { return now.Sub(t).Round(time.Second).String() },
}).Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hallkiosk {{.Doc.Node}} — 设备状态 Device health</title>
<style>
body{font:16px/1.5 system-ui,"Noto Sans CJK SC",sans-serif;margin:1.5em;color:#111}
table{border-collapse:collapse;width:100%;max-width:60em}th,td{border:1px solid #999;padding:.3em .6em;text-align:left}
.ok{background:#dff5df}.degraded{background:#fff1c2}.down{background:#f9d0d0}.skipped{background:#eee}
.state{font-weight:bold;text-transform:uppercase}form{display:inline}button{font-size:1em;margin:.1em}
</style></head><body>
<h1>Hallkiosk — {{.Doc.Node}}</h1>
<p>Overall: <span class="state">{{.Doc.Overall}}</span> · version {{.Doc.Version}} · up {{.Doc.UptimeS}} s{{if .Doc.Simulated}} · <strong>simulator mode</strong>{{end}}</p>
<h2>设备与组件 Components</h2>
<table><tr><th>Component</th><th>State</th><th>Code</th><th>Message</th><th>For</th></tr>
{{range .Doc.Components}}<tr class="{{.State}}"><td>{{.Component}}</td><td class="state">{{.State}}</td><td><code>{{.Code}}</code></td><td>{{.Message}}</td><td>{{ago $.Now .Since}}</td></tr>
{{end}}</table>
<h2>Start-up</h2>
<p>Loaded: {{range .Doc.Devices.Loaded}}{{.Name}} {{end}}<br>Skipped: {{range .Doc.Devices.Skipped}}{{.Name}} ({{.Reason}}) {{end}}<br>Failed: {{range .Doc.Devices.Failed}}{{.Name}} ({{.Reason}}) {{end}}</p>
{{if .Categories}}<h2>取号 Take a ticket</h2><p>{{range .Categories}}<form method="post" action="/api/dispense"><input type="hidden" name="category" value="{{.}}"><input type="hidden" name="back" value="1"><button>take {{.}}</button></form>{{end}}</p>{{end}}
{{if .Tests}}<h2>自检 Self-tests</h2><p>{{range .Tests}}<form method="post" action="/api/devices/{{.}}/test"><input type="hidden" name="back" value="1"><button>test {{.}}</button></form>{{end}}</p>{{end}}
{{if .Sims}}<h2>模拟器 Simulators</h2>
{{range .Sims}}<p><strong>{{.Name}}</strong>:
{{range .Buttons}}<form method="post" action="/api/sim/{{.Sim}}"><input type="hidden" name="cmd" value="{{.Cmd}}"><input type="hidden" name="back" value="1"><button>{{.Label}}</button></form>{{end}}</p>{{end}}{{end}}
<p><a href="/api/health">/api/health</a> · <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a></p>
</body></html>`))

type simButton struct{ Sim, Cmd, Label string }

func (a *Admin) statusPage(w http.ResponseWriter, r *http.Request) {
	type sim struct {
		Name    string
		Buttons []simButton
	}
	var sims []sim
	for name, sc := range a.Sim {
		sims = append(sims, sim{Name: name, Buttons: simButtons(name, sc.Kind)})
	}
	sort.Slice(sims, func(i, j int) bool { return sims[i].Name < sims[j].Name })
	var tests []string
	for name := range a.Tests {
		tests = append(tests, name)
	}
	sort.Strings(tests)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var cats []string
	if a.Dispense != nil {
		cats = a.Categories
	}
	page.Execute(w, map[string]any{"Doc": a.doc(), "Now": a.Now(), "Sims": sims, "Tests": tests, "Categories": cats})
}

func simButtons(name, kind string) []simButton {
	var b []simButton
	add := func(cmd, label string) { b = append(b, simButton{name, cmd, label}) }
	switch kind {
	case "idcard":
		for i, l := range []string{"resident 1", "resident 2", "resident (长期)", "HK/MO/TW permit", "foreign PR"} {
			add(fmt.Sprintf("place %d", i), "place "+l)
		}
		add("remove", "remove card")
		add("fault readfail", "read failure")
		add("fault checksum", "checksum error")
	case "escpos":
		add("paper low", "paper low")
		add("paper out", "paper out")
		add("paper ok", "paper ok")
		add("cover open", "open cover")
		add("cover closed", "close cover")
		add("failafter 100", "paper runs out mid-job")
	case "barcode":
		add("scan APT-20261122-0042", "scan appointment code")
		add("scan https://zwfw.example.gov.cn/q?c=A023", "scan URL")
		add("scanhex 41000d", "scan bad payload")
	case "gpio":
		add("near", "person near")
		add("left", "person left")
		add("door open", "open cabinet door")
		add("door closed", "close cabinet door")
		return b
	}
	add("unplug", "unplug")
	add("replug", "replug")
	return b
}
