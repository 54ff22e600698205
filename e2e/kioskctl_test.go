package e2e

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// startReader runs `devsim idcard` on a pty and returns its link and control socket.
func startReader(t *testing.T) (link, ctl string) {
	t.Helper()
	return startReaderAt(t, "115200")
}

// startReaderAt is startReader with the simulator paced at baud.
func startReaderAt(t *testing.T, baud string) (link, ctl string) {
	t.Helper()
	dir := t.TempDir()
	link = filepath.Join(dir, "reader")
	ctl = link + ".ctl"
	p := start(t, "devsim", "idcard", "--link", link, "--baud", baud)
	p.waitOutput(t, "simulator running", 10*time.Second)
	t.Cleanup(func() { p.stop(t) })
	return link, ctl
}

func ctl(t *testing.T, socket string, cmd ...string) {
	t.Helper()
	out, errOut, code := run(t, "devsim", append([]string{"ctl", "--control", socket}, cmd...)...)
	if code != 0 {
		t.Fatalf("devsim ctl %v: %s%s", cmd, out, errOut)
	}
}

func TestKioskctlIDCardReadJSON(t *testing.T) {
	link, socket := startReader(t)
	wantKeys := []string{"address", "birth", "card_type", "id_number", "id_valid", "issuer", "name", "nation",
		"photo_bytes", "sex", "valid_from", "valid_to"}
	cases := []struct {
		card string
		want map[string]any
	}{
		{"0", map[string]any{"card_type": "resident", "name": "张*", "sex": "男", "nation": "汉", "birth": "1985-03-07",
			"id_number": "110105********0019", "id_valid": true, "valid_to": "2035-06-01", "photo_bytes": 1024.0}},
		{"2", map[string]any{"card_type": "resident", "name": "王**", "valid_to": "长期", "id_number": "510107********007X"}},
		{"3", map[string]any{"card_type": "gat_residence", "name": "陈**", "id_number": "810000********0047", "id_valid": true}},
		{"4", map[string]any{"card_type": "foreign_permanent", "name": "史**"}},
	}
	for _, c := range cases {
		ctl(t, socket, "place", c.card)
		out, errOut, code := run(t, "kioskctl", "idcard", "read", "--port", link, "--timeout", "10s", "--json")
		if code != 0 {
			t.Fatalf("kioskctl idcard read card %s: exit %d: %s", c.card, code, errOut)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output is not one JSON object: %v\n%s", err, out)
		}
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !reflect.DeepEqual(keys, wantKeys) {
			t.Errorf("JSON keys = %v; want exactly %v", keys, wantKeys)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("card %s: %s = %v; want %v", c.card, k, got[k], v)
			}
		}
		if addr, _ := got["address"].(string); addr != "" && !strings.HasSuffix(addr, "****") {
			t.Errorf("card %s: address %q is not masked after the district", c.card, addr)
		}
		ctl(t, socket, "remove")
	}
}

func TestKioskctlIDCardSAM(t *testing.T) {
	link, _ := startReader(t)
	out, errOut, code := run(t, "kioskctl", "idcard", "sam", "--port", link, "--json")
	if code != 0 {
		t.Fatalf("kioskctl idcard sam: exit %d: %s", code, errOut)
	}
	var got struct {
		Status string `json:"status"`
		SAMID  string `json:"sam_id"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Status != "ok" || got.SAMID == "" {
		t.Errorf("sam output = %q (%v); want status ok and a SAM id", out, err)
	}
}

func TestKioskctlIDCardFailures(t *testing.T) {
	link, socket := startReader(t)
	oneLine := func(t *testing.T, name, stderr string, code int, want string) {
		t.Helper()
		if code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want non-zero and one line containing %q", name, code, stderr, want)
		}
	}
	_, stderr, code := run(t, "kioskctl", "idcard", "read", "--port", filepath.Join(t.TempDir(), "absent"), "--json")
	oneLine(t, "no reader", stderr, code, "no reader")

	_, stderr, code = run(t, "kioskctl", "idcard", "read", "--port", link, "--timeout", "1s", "--json")
	oneLine(t, "no card", stderr, code, "timeout")

	ctl(t, socket, "fault", "silence", "on")
	_, stderr, code = run(t, "kioskctl", "idcard", "read", "--port", link, "--timeout", "2s", "--json")
	oneLine(t, "silent reader", stderr, code, "bad reader")
	ctl(t, socket, "clear")
}
