package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestKioskctlQueueAgainstKioskd(t *testing.T) {
	dir := t.TempDir()
	admin := freePort(t)
	// Two categories, so that a multi-step service has somewhere to go. They are the
	// simulated platform's A and B, whose node config replaces these when it arrives in time.
	cfg := writeConfig(t, dir, admin, `[[queue.category]]
code = "A"
name_zh = "综合受理"
name_en = "General applications"
windows = [1, 2, 3]
[[queue.category]]
code = "B"
name_zh = "不动产登记"
name_en = "Real estate registration"
windows = [4, 5]
`)
	hallAddr := hallListen(t, cfg, admin)
	k := start(t, "kioskd", "-sim", "-config", cfg)
	k.waitOutput(t, "hall LAN API", 10*time.Second)
	tokens := filepath.Join(dir, "hall-tokens.json")
	if fi, err := os.Stat(tokens); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("tokens file %s: %v, mode %v; want it made with mode 0600", tokens, err, fi)
	}
	flags := []string{"--hall", "http://" + hallAddr, "--tokens", tokens}
	q := func(args ...string) map[string]any {
		t.Helper()
		out, errOut, code := run(t, "kioskctl", append(append([]string{"queue"}, args...), append(flags, "--json")...)...)
		if code != 0 {
			t.Fatalf("kioskctl queue %v: exit %d: %s", args, code, errOut)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("kioskctl queue %v: not JSON: %q", args, out)
		}
		return m
	}
	first := q("issue", "--category", "A")
	var keys []string
	for k := range first {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{"ahead", "category", "estimated_wait_s", "ticket"}) || first["ticket"] != "A001" {
		t.Errorf("queue issue --json = %v; want exactly ticket, category, ahead, estimated_wait_s and A001", first)
	}
	if second := q("issue", "--category", "A"); second["ticket"] != "A002" || second["ahead"] != 1.0 {
		t.Errorf("second ticket = %v; want A002 with 1 ahead", second)
	}
	if c := q("call", "--window", "1"); c["ticket"] != "A001" {
		t.Errorf("call = %v; want A001", c)
	}
	// The API's snake_case reaches kioskctl's JSON unchanged: window 1 holds A001.
	if ws, _ := q("status")["windows"].([]any); len(ws) == 0 || !windowHolds(ws[0], 1, "called", "A001") {
		t.Errorf("status windows = %v; want window 1 first, called, A001", ws)
	}
	if f := q("finish", "--window", "1", "--outcome", "served"); f["outcome"] != "served" {
		t.Errorf("finish = %v", f)
	}
	st := q("status")
	if st["served"] != 1.0 || st["waiting"].(map[string]any)["A"] != 1.0 {
		t.Errorf("status = %v; want 1 served, 1 waiting in A", st)
	}
	// A multi-step service: A002's first step done at window 1, it goes on to B, same number.
	if c := q("call", "--window", "1"); c["ticket"] != "A002" {
		t.Fatalf("call = %v; want A002", c)
	}
	if f := q("finish", "--window", "1", "--next", "B"); f["ticket"] != "A002" || f["category"] != "B" || f["state"] != "waiting" {
		t.Errorf("finish --next B = %v; want A002 waiting in B", f)
	}
	if c := q("call", "--window", "4"); c["ticket"] != "A002" {
		t.Errorf("window 4 (B) called %v; want A002", c["ticket"])
	}
	q("finish", "--window", "4")
	if out, errOut, code := run(t, "kioskctl", append([]string{"queue", "status"}, flags...)...); code != 0 || !strings.Contains(out, "window 1 idle") {
		t.Errorf("queue status: exit %d, %q %q; want window 1 idle among the lines", code, out, errOut)
	}
	_, errOut, code := run(t, "kioskctl", append([]string{"queue", "issue", "--category", "Z"}, flags...)...)
	if code == 0 || !strings.Contains(errOut, "category") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("issuing in an unknown category: exit %d, %q; want a one-line error naming the category", code, errOut)
	}
	// Finishing at an idle window says that finishing needs a ticket (not the start that
	// kioskctl tries first for a served outcome).
	_, errOut, code = run(t, "kioskctl", append([]string{"queue", "finish", "--window", "1", "--outcome", "served"}, flags...)...)
	if code == 0 || !strings.Contains(errOut, "Finish") || strings.Contains(errOut, "Start") {
		t.Errorf("finish at an idle window: exit %d, %q; want an error about finishing", code, errOut)
	}
	k.stop(t)
}

func windowHolds(w any, id float64, state, ticket string) bool {
	m, _ := w.(map[string]any)
	return m["id"] == id && m["state"] == state && m["ticket"] == ticket
}
