package hall

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/cdp"
)

// consoleJS helps expressions read the console: el('cur') is the element, text('cur') its
// text, waiting('A') the waiting count shown for category A.
const consoleJS = `const el=id=>document.getElementById(id),text=id=>el(id).textContent,
	waiting=c=>el('waiting').querySelector('[data-cat='+c+'] b')?.textContent;`

func waitJS(t *testing.T, tab *cdp.Tab, what, expr string) {
	t.Helper()
	if err := tab.Wait(`(()=>{`+consoleJS+`return `+expr+`})()`, 5*time.Second); err != nil {
		var state any
		tab.Eval(`JSON.stringify({cur: document.getElementById('cur')?.textContent, state: document.getElementById('state')?.textContent,
			msg: document.getElementById('msg')?.textContent, waiting: document.getElementById('waiting')?.textContent})`, &state)
		t.Fatalf("%s: %v\nconsole: %v", what, err, state)
	}
}

func evalJS(t *testing.T, tab *cdp.Tab, expr string) {
	t.Helper()
	if err := tab.Eval(`(()=>{`+consoleJS+expr+`;return true})()`, nil); err != nil {
		t.Fatal(err)
	}
}

// ticketAt reads a ticket through the API, as another client would.
func ticketAt(t *testing.T, srv *httptest.Server, number string) map[string]any {
	t.Helper()
	code, m := do(t, srv, "GET", "/hall/v1/tickets/"+number, "term", "")
	if code != 200 {
		t.Fatalf("ticket %s = %d %v", number, code, m)
	}
	return m
}

// TestConsoleFollowsServer drives the window console in headless Chromium while other
// clients (kioskctl, another browser: here the API over HTTP) change the window's ticket.
// The console shows what the hall node holds, live and after a reload; its finish controls
// work in every state they are offered in; errors read in Chinese and English.
func TestConsoleFollowsServer(t *testing.T) {
	_, srv := liveHall(t, shanghai, nil)
	issue := func(cat string) string {
		t.Helper()
		code, m := do(t, srv, "POST", "/hall/v1/tickets", "term", `{"category":"`+cat+`"}`)
		if code != 201 {
			t.Fatalf("issue = %d %v", code, m)
		}
		return m["ticket"].(string)
	}
	window1 := func(op, body string) map[string]any {
		t.Helper()
		code, m := do(t, srv, "POST", "/hall/v1/windows/1/"+op, "w1-secret", body)
		if code != 200 {
			t.Fatalf("window 1 %s = %d %v", op, code, m)
		}
		return m
	}
	for range 3 {
		issue("A")
	}

	b := launch(t)
	console := openTab(t, b, srv.URL+"/hall/console")
	waitJS(t, console, "login shown", `!el('login').hidden`)
	evalJS(t, console, `el('w').value='1'; el('t').value='w1-secret'; el('save').click()`)
	// No need to wait for the event stream: the console reads the status again when it
	// connects, so a change made before then shows too.
	waitJS(t, console, "signed in", `!el('main').hidden`)

	// A call made by another client shows in the console, live.
	window1("call-next", "")
	waitJS(t, console, "A001 called through the API shows", `text('cur')==='A001' && text('state').includes('Called') && text('state').includes('A 社保')`)
	waitJS(t, console, "waiting counts", `waiting('A')==='2' && text('waiting').includes('A 社保 2')`)
	waitJS(t, console, "buttons follow the state", `el('callnext').disabled && !el('cancel').disabled && !document.querySelector('[data-outcome=no_show]').disabled`)
	// A reload keeps it: the page reads the window's state from the hall node.
	evalJS(t, console, `window.before=1; location.reload()`)
	waitJS(t, console, "A001 still shown after a reload", `!window.before && text('cur')==='A001' && text('state').includes('Called')`)
	window1("start", "")
	waitJS(t, console, "serving, started elsewhere", `text('state').includes('Serving') && document.querySelector('[data-outcome=no_show]').disabled`)
	window1("finish", `{"outcome":"served"}`)
	waitJS(t, console, "idle after a finish elsewhere", `text('cur')==='—' && text('state').includes('Idle') && !el('callnext').disabled`)

	// "Served" on a ticket that is only called: the console starts it, then finishes it.
	evalJS(t, console, `el('callnext').click()`)
	waitJS(t, console, "A002 called from the console", `text('cur')==='A002' && el('callnext').disabled`)
	evalJS(t, console, `document.querySelector('[data-outcome=served]').click()`)
	waitJS(t, console, "A002 served", `text('cur')==='—' && !el('callnext').disabled`)
	if m := ticketAt(t, srv, "A002"); m["outcome"] != "served" {
		t.Errorf("A002 after served on a called ticket = %v; want finished served", m)
	}
	var msg string
	console.Eval(`document.getElementById('msg').textContent`, &msg)
	if msg != "" {
		t.Errorf("served on a called ticket showed %q; want no error", msg)
	}

	// Finish to a next step (多窗联办): the same number waits in B.
	evalJS(t, console, `el('callnext').click()`)
	waitJS(t, console, "A003 called", `text('cur')==='A003' && !el('nextstep').disabled`)
	evalJS(t, console, `el('next').value='B'; el('nextstep').click()`)
	waitJS(t, console, "A003 moved on", `text('cur')==='—' && text('msg').includes('moves on to B') && waiting('B')==='1'`)
	if m := ticketAt(t, srv, "A003"); m["state"] != "waiting" || m["category"] != "B" {
		t.Errorf("A003 after the next step = %v; want waiting in B", m)
	}

	// Errors read in Chinese first, then English, never as the engine's Go message.
	evalJS(t, console, `el('callnext').click()`)
	waitJS(t, console, "nobody waiting", `text('msg')==='现在没有人等候 · Nobody is waiting'`)

	// Cancel takes two taps.
	n := issue("A")
	window1("call-next", "")
	waitJS(t, console, n+" called elsewhere", fmt.Sprintf(`text('cur')===%q && !el('cancel').disabled`, n))
	evalJS(t, console, `el('cancel').click()`)
	waitJS(t, console, "cancel asks to confirm", `text('cancel').includes('Confirm')`)
	if m := ticketAt(t, srv, n); m["state"] != "called" {
		t.Fatalf("%s after one tap on cancel = %v; want still called", n, m)
	}
	evalJS(t, console, `el('cancel').click()`)
	waitJS(t, console, n+" cancelled", `text('cur')==='—'`)
	if m := ticketAt(t, srv, n); m["outcome"] != "cancelled" {
		t.Errorf("%s after cancel confirmed = %v; want cancelled", n, m)
	}

	// A ticket that did not print: staff are told at once, and it stays listed.
	pf := issue("B")
	if code, m := do(t, srv, "POST", "/hall/v1/tickets/"+pf+"/cancel", "term", `{"reason":"print_failed"}`); code != 200 {
		t.Fatalf("cancel print_failed = %d %v", code, m)
	}
	waitJS(t, console, "print failure told", fmt.Sprintf(`text('msg').includes('Ticket %s did not print')`, pf))
	_, st := do(t, srv, "GET", "/hall/v1/status", "term", "")
	if listed, _ := st["print_failures"].([]any); len(listed) != 1 {
		t.Fatalf("status print_failures = %v; want %s listed", st["print_failures"], pf)
	}
	list := fmt.Sprintf(`!el('printfail').hidden && text('printfail').startsWith('号票未打印 / Not printed') && !!el('printfail').querySelector('[data-ticket=%s]')`, pf)
	waitJS(t, console, "print failure listed", list)
	evalJS(t, console, `window.before=1; location.reload()`)
	waitJS(t, console, "print failure listed after a reload", `!window.before && `+list)
}

// smallConsole frames the console 400 px wide, the width of a phone, signed in as window 1.
const smallConsole = `<!doctype html><html><body style="margin:0">
<script>localStorage.setItem('win','1');localStorage.setItem('tok:1','w1-secret')</script>
<iframe id="f" src="/hall/console?window=1" style="width:400px;height:800px;border:0"></iframe></body></html>`

// TestConsoleOnSmallScreen: at 400 px wide the console has nothing off screen, every control
// is a usable tap target, and waiting counts and the current ticket still update live.
func TestConsoleOnSmallScreen(t *testing.T) {
	_, srv := liveHall(t, shanghai, map[string]string{"/test/small": smallConsole})
	do(t, srv, "POST", "/hall/v1/tickets", "term", `{"category":"A"}`)
	b := launch(t)
	tab := openTab(t, b, srv.URL+"/test/small")
	// Expressions run in the frame's document.
	frame := func(expr string) string {
		return `(()=>{const f=document.getElementById('f'),document_=f.contentDocument;
			const el=id=>document_.getElementById(id),text=id=>el(id).textContent,
			waiting=c=>el('waiting').querySelector('[data-cat='+c+'] b')?.textContent;
			return ` + expr + `})()`
	}
	if err := tab.Wait(frame(`el('main') && !el('main').hidden`), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := tab.Wait(frame(`waiting('A')==='1'`), 2*time.Second); err != nil {
		t.Error(err)
	}
	var layout struct {
		Width, ScrollWidth int
		Bad                []string
	}
	err := tab.Eval(frame(`(()=>{const bad=[];
		for(const e of document_.querySelectorAll('button,select,#cur,#state,#waiting')){if(!e.offsetParent)continue;const r=e.getBoundingClientRect();
			if(r.left<0||r.right>f.contentWindow.innerWidth+0.5)bad.push((e.id||e.textContent)+' off screen');
			if((e.tagName==='BUTTON'||e.tagName==='SELECT')&&r.height<44)bad.push((e.id||e.textContent)+' '+r.height+' px high');
			if(e.scrollWidth>e.clientWidth+1)bad.push((e.id||e.textContent)+' text cut');}
		return {Width:f.contentWindow.innerWidth,ScrollWidth:document_.documentElement.scrollWidth,Bad:bad}})()`), &layout)
	if err != nil {
		t.Fatal(err)
	}
	if layout.Width != 400 || layout.ScrollWidth > layout.Width || len(layout.Bad) > 0 {
		b, _ := json.Marshal(layout)
		t.Errorf("console at 400 px: %s; want nothing off screen or cut, tap targets at least 44 px high", b)
	}
	do(t, srv, "POST", "/hall/v1/tickets", "term", `{"category":"A"}`)
	if err := tab.Wait(frame(`waiting('A')==='2'`), 2*time.Second); err != nil {
		t.Errorf("waiting count did not follow a new ticket: %v", err)
	}
	do(t, srv, "POST", "/hall/v1/windows/1/call-next", "w1-secret", "")
	if err := tab.Wait(frame(`text('cur')==='A001' && waiting('A')==='1'`), 2*time.Second); err != nil {
		t.Errorf("the call did not show: %v", err)
	}
	if t.Failed() {
		var s string
		tab.Eval(frame(`text('main').replace(/\s+/g,' ')`), &s)
		t.Log("console: ", strings.TrimSpace(s))
	}
}
