package hall

import (
	_ "embed"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"sync"

	"github.com/hallkiosk/hallkiosk/internal/voice"
)

// recentCalls keeps the latest calls for a display that (re)loads; lossy like the hub.
type recentCalls struct {
	mu    sync.Mutex
	calls []Event
}

func (r *recentCalls) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append([]Event{e}, r.calls...)
	if len(r.calls) > 8 {
		r.calls = r.calls[:8]
	}
}

func (r *recentCalls) list() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.calls...)
}

var recent sync.Map // *API -> *recentCalls

func (a *API) recent() *recentCalls {
	v, _ := recent.LoadOrStore(a, &recentCalls{})
	return v.(*recentCalls)
}

// trackCalls remembers calls and recalls for the board; started by Handler's first use.
func (a *API) trackCalls() {
	ch, _ := a.hub().Subscribe()
	go func() {
		for e := range ch {
			if e.Type == "called" || e.Type == "recalled" {
				a.recent().add(e)
			}
		}
	}()
}

// board is what the hall display shows: the hall, categories with their waiting counts,
// and the latest calls.
func (a *API) board(w http.ResponseWriter, r *http.Request) {
	st, err := a.Queue.Stats(r.Context())
	if err != nil {
		queueError(w, err)
		return
	}
	type cat struct {
		Code    string `json:"code"`
		NameZH  string `json:"name_zh"`
		NameEN  string `json:"name_en"`
		Waiting int    `json:"waiting"`
	}
	var cats []cat
	for _, c := range a.Queue.Config().Categories {
		cats = append(cats, cat{c.Code, c.NameZH, c.NameEN, st.Waiting[c.Code]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"hall": a.HallName, "categories": cats, "calls": a.recent().list()})
}

var ticketRe = regexp.MustCompile(`^[A-Z]{1,2}[0-9]{1,4}$`)

// announcement is the WAV of one call: "请A023号到3号窗口办理", spoken, or a chime when no
// voice is installed (header X-Announcement: chime). Only a ticket number and a window
// are accepted, so it can never be made to speak anything else, names included.
func (a *API) announcement(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	win, err := strconv.Atoi(r.URL.Query().Get("window"))
	if !ticketRe.MatchString(ticket) || err != nil || win <= 0 || win > 999 {
		writeError(w, http.StatusBadRequest, "bad_request", "ticket (e.g. A023) and window (1-999) are required")
		return
	}
	sp := a.Speaker
	if sp == nil {
		sp = &voice.Speaker{Command: "-"}
	}
	wav, spoken := sp.Audio(r.Context(), voice.CallText(ticket, win))
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	if spoken {
		w.Header().Set("X-Announcement", "speech")
	} else {
		w.Header().Set("X-Announcement", "chime")
	}
	w.Write(wav)
}

//go:embed display.html
var displayHTML string

//go:embed console.html
var consoleHTML string

var (
	displayTmpl = template.Must(template.New("display").Parse(displayHTML))
	consoleTmpl = template.Must(template.New("console").Parse(consoleHTML))
)

func (a *API) displayPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	tz := "Asia/Shanghai"
	if loc := a.Queue.Config().Location; loc != nil {
		tz = loc.String()
	}
	displayTmpl.Execute(w, map[string]any{"Hall": a.HallName, "TZ": tz})
}

func (a *API) consolePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	consoleTmpl.Execute(w, map[string]any{"Hall": a.HallName, "Window": r.URL.Query().Get("window")})
}
