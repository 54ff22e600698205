package config

import (
	"os"
	"strings"
	"testing"

	profiles "github.com/hallkiosk/hallkiosk/firmware-profiles"
)

func set(t *testing.T) *profiles.Set {
	t.Helper()
	s, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const base = `version = 1
[node]
id = "hall-0571-01-t03"
[[device]]
name = "idcard"
profile = "ga467-generic"
port = "/dev/ttyUSB0"
`

func TestExampleConfigIsValid(t *testing.T) {
	c, err := Load("../../configs/kioskd.example.toml", set(t))
	if err != nil {
		t.Fatalf("the example config does not load: %v", err)
	}
	if c.Location().String() != "Asia/Shanghai" || c.Admin.Listen != "127.0.0.1:8080" {
		t.Errorf("example config = %+v", c)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse([]byte(base), set(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Node.Timezone != "Asia/Shanghai" || c.Store.Path == "" || c.Admin.Listen != "127.0.0.1:8080" || len(c.Node.Roles) != 2 {
		t.Errorf("defaults not provisioned: %+v", c)
	}
	if !c.Devices[0].IsEnabled() {
		t.Error("a device without enabled = ... is not enabled")
	}
	if err := Default().Validate(set(t)); err != nil {
		t.Errorf("Default() does not validate: %v", err)
	}
}

func TestErrorsNameKeyAndFix(t *testing.T) {
	cases := []struct {
		name, edit string
		want       []string
	}{
		{"unknown key", base + "colour = \"red\"\n", []string{"unknown key", "colour"}},
		{"unknown nested key", strings.Replace(base, "[node]", "[node]\nhallname = \"x\"", 1), []string{"node.hallname"}},
		{"bad version", strings.Replace(base, "version = 1", "version = 2", 1), []string{"version", "set version = 1"}},
		{"bad node id", strings.Replace(base, `"hall-0571-01-t03"`, `"Hall 3"`, 1), []string{"node.id", "lowercase"}},
		{"bad role", strings.Replace(base, "[node]", "[node]\nroles = [\"kiosk\"]", 1), []string{"node.roles", "terminal"}},
		{"bad timezone", strings.Replace(base, "[node]", "[node]\ntimezone = \"Beijing\"", 1), []string{"node.timezone", "Asia/Shanghai"}},
		{"remote admin", base + "[admin]\nlisten = \"0.0.0.0:8080\"\n", []string{"admin.listen", "allow_remote"}},
		{"bad hall url", base + "[hall]\nurl = \"10.0.0.2:8081\"\nterminal_token_file = \"t\"\n", []string{"hall.url", "http://"}},
		{"hall url without token", base + "[hall]\nurl = \"http://10.0.0.2:8081\"\n", []string{"hall.terminal_token_file"}},
		{"bad display", base + "[ui]\ndisplay = \"vga\"\n", []string{"ui.display", "headless"}},
		{"bad present", base + "[ui]\npresent = \"vulkan\"\n", []string{"ui.present", "auto, gl or x11"}},
		{"bad ticket qr", base + "[ui]\nticket_qr = \"https://x/\"\n", []string{"ui.ticket_qr", "%s"}},
		{"short idle", base + "[ui]\nidle = \"2s\"\n", []string{"ui.idle", "10s"}},
		{"bad green age", base + "[ui]\ngreen_age = -5\n", []string{"ui.green_age", "-1"}},
		{"require unknown category", base + "[ui]\nrequire_id = [\"Q\"]\n", []string{"ui.require_id", "\"Q\""}},
		{"bad level", base + "[log]\nlevel = \"loud\"\n", []string{"log.level", "debug, info"}},
		{"unknown profile", strings.Replace(base, "ga467-generic", "acme-9000", 1), []string{"device[0].profile", "acme-9000"}},
		{"duplicate device", base + "[[device]]\nname = \"idcard\"\nprofile = \"ga467-generic\"\nport = \"/dev/ttyUSB1\"\n", []string{"device[1].name", "used twice"}},
		{"empty port", strings.Replace(base, `port = "/dev/ttyUSB0"`, `port = ""`, 1), []string{"device[0].port"}},
		{"bad override", base + "[device.override]\npoll_interval = \"100ms\"\n", []string{"device[0].override", "300ms"}},
		{"type error", strings.Replace(base, "version = 1", "version = \"one\"", 1), []string{"version"}},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.edit), set(t))
		if err == nil {
			t.Errorf("%s: Parse succeeded; want an error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, w)
			}
		}
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	bad := strings.Replace(strings.Replace(base, "version = 1", "version = 3", 1), `"hall-0571-01-t03"`, `"X"`, 1)
	_, err := Parse([]byte(bad), set(t))
	if err == nil || !strings.Contains(err.Error(), "version") || !strings.Contains(err.Error(), "node.id") {
		t.Errorf("Parse = %v; want both version and node.id reported", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(t.TempDir()+"/none.toml", set(t))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("Load(missing) = %v; want a not-exist error", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
