package hall

import (
	_ "embed"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/voice"
)

// recentCalls keeps the latest calls (at most 8) for a display that (re)loads.
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
	writeJSON(w, http.StatusOK, map[string]any{"hall": a.HallName, "categories": cats, "calls": a.recent().list(),
		"utc_offset_min": a.utcOffsetMin(time.Now())})
}

// utcOffsetMin is the hall zone's offset from UTC at t, in minutes. Pages get the offset, not
// the zone's name: a browser knows only IANA names, and a zone from the config may be
// "Local" or a fixed zone named "CST". The display takes it afresh from every board, so a
// change of daylight saving time reaches an open page within one refresh.
func (a *API) utcOffsetMin(t time.Time) int {
	_, off := t.In(a.location()).Zone()
	return off / 60
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
	if spoken {
		// The same ticket and window always make the same speech.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Announcement", "speech")
	} else {
		// The chime may stand in for speech that failed once (espeak-ng busy or killed by
		// its timeout): a browser that kept it would chime for that call all day.
		w.Header().Set("Cache-Control", "no-store")
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
	displayTmpl.Execute(w, map[string]any{"Hall": a.HallName, "OffsetMin": a.utcOffsetMin(time.Now())})
}

func (a *API) consolePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	consoleTmpl.Execute(w, map[string]any{"Hall": a.HallName, "Window": r.URL.Query().Get("window")})
}
