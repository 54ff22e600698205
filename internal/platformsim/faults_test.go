package platformsim

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestFaultLatency(t *testing.T) {
	f := newFixture(t)
	f.sim.SetFaults(Faults{Latency: 150 * time.Millisecond})
	start := time.Now()
	a := f.must(t, "GET", "/v1/catalog", f.token, nil)
	if d := time.Since(start); d < 150*time.Millisecond || a.status != http.StatusOK {
		t.Errorf("answer %d after %v; want 200 after at least 150ms", a.status, d)
	}
}

func TestFaultErrorRate(t *testing.T) {
	f := newFixture(t)
	f.sim.SetFaults(Faults{ErrorRate: 1})
	a := f.must(t, "GET", "/v1/catalog", f.token, nil)
	if a.status != http.StatusServiceUnavailable || errorCode(t, a) != "unavailable" {
		t.Errorf("ErrorRate 1: %v; want 503", a)
	}
	f.sim.SetFaults(Faults{ErrorRate: 0.5})
	seen := map[int]int{}
	for range 60 {
		seen[f.must(t, "GET", "/v1/catalog", f.token, nil).status]++
	}
	if seen[200] == 0 || seen[503] == 0 || len(seen) != 2 {
		t.Errorf("ErrorRate 0.5 over 60 requests: %v; want both 200 and 503", seen)
	}
}

func TestFaultDropAndPartition(t *testing.T) {
	for _, fl := range []Faults{{DropRate: 1}, {Partition: true}} {
		f := newFixture(t)
		f.sim.SetFaults(fl)
		for _, path := range []string{"/v1/catalog", eventsPath} {
			if a, err := f.do(t, "POST", path, f.token, batch()); err == nil {
				t.Errorf("%+v %s: answer %v; want a connection error", fl, path, a)
			}
		}
		// The control API is never faulted.
		if a := f.must(t, "GET", "/control/faults", "", nil); a.status != http.StatusOK {
			t.Errorf("%+v: /control/faults %v; want 200", fl, a)
		}
		if n := f.sim.Stats(testNode).Requests; n != 2 {
			t.Errorf("%+v: %d requests counted; want 2 (faulted ones count)", fl, n)
		}
	}
}

func TestFaultHang(t *testing.T) {
	f := newFixture(t)
	f.sim.SetFaults(Faults{Hang: true})
	c := &http.Client{Timeout: 200 * time.Millisecond}
	req, _ := http.NewRequest("GET", f.srv.URL+"/v1/catalog", nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	_, err := c.Do(req)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Hang: err = %v; want a client timeout", err)
	}
	// A request hanging when the fault is lifted is answered.
	done := make(chan answer, 1)
	go func() {
		a, _ := f.do(t, "GET", "/v1/catalog", f.token, nil)
		done <- a
	}()
	deadline := time.Now().Add(3 * time.Second)
	for f.sim.Stats(testNode).Requests < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // wait for the request to arrive, then lift the fault
	}
	f.sim.SetFaults(Faults{})
	select {
	case a := <-done:
		if a.status != http.StatusOK {
			t.Errorf("after lifting Hang: %v; want 200", a)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("request still hanging after the fault was lifted")
	}
}

func TestFaultGarbageAndWrongShape(t *testing.T) {
	f := newFixture(t)
	f.sim.SetFaults(Faults{Garbage: true})
	a := f.must(t, "POST", eventsPath, f.token, batch(ev(newID(), "queue", 1, "ticket.issued")))
	if a.status != http.StatusOK || json.Valid(a.body) {
		t.Errorf("Garbage: %v; want 200 with a non-JSON body", a)
	}
	if n := len(f.sim.Events(testNode, "queue")); n != 0 {
		t.Errorf("Garbage stored %d events; want 0", n)
	}

	f.sim.SetFaults(Faults{WrongShape: true})
	a = f.must(t, "GET", "/v1/catalog", f.token, nil)
	if a.status != http.StatusOK || string(a.body) != `{"ok":true}` {
		t.Errorf("WrongShape catalog: %v; want 200 {\"ok\":true}", a)
	}
	id1, id2 := newID(), newID()
	a = f.must(t, "POST", eventsPath, f.token, batch(ev(id1, "queue", 1, "ticket.issued"), ev(id2, "queue", 2, "ticket.called")))
	var r results
	if err := json.Unmarshal(a.body, &r); err != nil || len(r.Results) != 1 {
		t.Errorf("WrongShape events: %v; want one result for two events", a)
	}
	f.sim.SetFaults(Faults{})
	got := decodeResults(t, f.must(t, "POST", eventsPath, f.token, batch(ev(id1, "queue", 1, "ticket.issued"), ev(id2, "queue", 2, "ticket.called"))))
	if got[0].Status != "duplicate" || got[1].Status != "duplicate" {
		t.Errorf("retry after WrongShape = %+v; want duplicates (the batch was stored)", got)
	}
}

func TestFaultUnauthorizedAndRateLimit(t *testing.T) {
	f := newFixture(t)
	f.sim.SetFaults(Faults{Unauthorized: true})
	a := f.must(t, "GET", "/v1/nodes/"+testNode+"/config", f.token, nil)
	if a.status != http.StatusUnauthorized || errorCode(t, a) != "unauthorized" {
		t.Errorf("Unauthorized: %v; want 401", a)
	}
	f.sim.SetFaults(Faults{RateLimit: 2500 * time.Millisecond})
	a = f.must(t, "POST", eventsPath, f.token, batch())
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "3" {
		t.Errorf("RateLimit 2.5s: %d Retry-After %q; want 429 with Retry-After 3", a.status, a.header.Get("Retry-After"))
	}
	errorCode(t, a)
}

func TestControlFaults(t *testing.T) {
	f := newFixture(t)
	body := `{"latency":"250ms","error_rate":0.25,"drop_rate":0.1,"hang":false,"garbage":true,"wrong_shape":false,
		"unauthorized":false,"rate_limit":"2s","reject":["tamper.alarm"],"partition":true}`
	if a := f.must(t, "PUT", "/control/faults", "", body); a.status != http.StatusOK {
		t.Fatalf("PUT /control/faults: %v", a)
	}
	want := Faults{Latency: 250 * time.Millisecond, ErrorRate: 0.25, DropRate: 0.1, Garbage: true,
		RateLimit: 2 * time.Second, Reject: []string{"tamper.alarm"}, Partition: true}
	if got := f.sim.Faults(); !reflect.DeepEqual(got, want) {
		t.Errorf("Faults() = %+v; want %+v", got, want)
	}
	var got Faults
	if err := json.Unmarshal(f.must(t, "GET", "/control/faults", "", nil).body, &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("GET /control/faults = %+v, %v; want %+v", got, err, want)
	}
	if a := f.must(t, "PUT", "/control/faults", "", `{"latency":"soon"}`); a.status != http.StatusBadRequest {
		t.Errorf("bad duration: %v; want 400", a)
	}
	if a := f.must(t, "PUT", "/control/faults", "", `{"lag":"1s"}`); a.status != http.StatusBadRequest {
		t.Errorf("unknown key: %v; want 400", a)
	}
	f.must(t, "PUT", "/control/faults", "", `{}`)
	decodeResults(t, f.must(t, "POST", eventsPath, f.token, batch(ev(newID(), "queue", 1, "ticket.issued"))))
	var st Stats
	if err := json.Unmarshal(f.must(t, "GET", "/control/stats?node="+testNode, "", nil).body, &st); err != nil || st.Streams["queue"].Accepted != 1 {
		t.Errorf("GET /control/stats = %+v, %v; want 1 accepted in queue", st, err)
	}
}
