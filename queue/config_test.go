package queue

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := testConfig().Validate(); err != nil {
		t.Fatalf("testConfig().Validate() = %v", err)
	}
	cases := []struct {
		name string
		edit func(c *Config)
		want []string // all in the message
	}{
		{"no categories", func(c *Config) { c.Categories = nil }, []string{"Categories is empty"}},
		{"empty code", func(c *Config) { c.Categories[0].Code = "" }, []string{"Categories[0]", "Code"}},
		{"duplicate code", func(c *Config) { c.Categories[1].Code = "A" }, []string{"Categories[1]", "appears twice"}},
		{"bad prefix", func(c *Config) { c.Categories[0].Prefix = "a" }, []string{"Prefix \"a\"", "capital letter"}},
		{"range backwards", func(c *Config) { c.Categories[0].RangeFrom, c.Categories[0].RangeTo = 50, 10 }, []string{"range 50..10", "RangeFrom <= RangeTo"}},
		{"range too wide", func(c *Config) { c.Categories[0].RangeTo = 10000 }, []string{"<= 9999"}},
		{"overlapping prefix", func(c *Config) {
			c.Categories[1].Prefix = "A"
			c.Categories[1].RangeFrom, c.Categories[1].RangeTo = 500, 600
		}, []string{"share prefix \"A\"", "overlap", "disjoint"}},
		{"open without close", func(c *Config) { c.Categories[0].Open = "08:30" }, []string{"both Open and Close"}},
		{"bad open", func(c *Config) { c.Categories[0].Open, c.Categories[0].Close = "8.30", "17:00" }, []string{"Open \"8.30\"", "\"08:30\""}},
		{"open after close", func(c *Config) { c.Categories[0].Open, c.Categories[0].Close = "18:00", "08:00" }, []string{"not before Close"}},
		{"negative cap", func(c *Config) { c.Categories[0].DailyCap = -1 }, []string{"DailyCap is -1"}},
		{"negative avg", func(c *Config) { c.Categories[0].AvgService = -time.Second }, []string{"AvgService"}},
		{"undeclared window", func(c *Config) { c.Categories[0].Windows = []int{7} }, []string{"window 7", "add {ID: 7} to Windows"}},
		{"duplicate window", func(c *Config) { c.Windows[1].ID = 1 }, []string{"Windows[1].ID 1 appears twice"}},
		{"zero window", func(c *Config) { c.Windows[0].ID = 0 }, []string{"Windows[0].ID is 0"}},
		{"policy unknown category", func(c *Config) { c.Windows[0].Policy.Categories = []string{"Q"} }, []string{"Policy.Categories", "\"Q\""}},
		{"negative weight", func(c *Config) { c.Windows[0].Policy.Weights = map[string]int{"A": -1} }, []string{"Weights[\"A\"] is -1"}},
		{"weight for unserved category", func(c *Config) { c.Windows[0].Policy.Weights = map[string]int{"C": 2} }, []string{"window 1", "\"C\"", "does not serve"}},
		{"unserved category", func(c *Config) { c.Categories[2].Windows = nil }, []string{"\"C\" is served by no window"}},
		{"negative recalls", func(c *Config) { c.MaxRecalls = -1 }, []string{"MaxRecalls is -1"}},
		{"negative long wait", func(c *Config) { c.LongWait = -time.Minute }, []string{"LongWait"}},
	}
	for _, c := range cases {
		cfg := testConfig()
		cfg.Categories = append([]Category(nil), cfg.Categories...)
		cfg.Windows = append([]Window(nil), cfg.Windows...)
		c.edit(&cfg)
		err := cfg.Validate()
		if err == nil {
			t.Errorf("Validate(%s) = nil; want an error", c.name)
			continue
		}
		for _, w := range append(c.want, "queue: config: ") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Validate(%s) = %q; want it to contain %q", c.name, err, w)
			}
		}
	}
}

func TestDefaults(t *testing.T) {
	c := Config{Categories: []Category{{Code: "A", Prefix: "A", Windows: []int{1}}}, Windows: []Window{{ID: 1}}}.withDefaults()
	if c.MaxRecalls != 3 || c.Location == nil || c.Categories[0].RangeFrom != 1 || c.Categories[0].RangeTo != 999 || c.Categories[0].AvgService != 5*time.Minute {
		t.Errorf("withDefaults() = %+v; want MaxRecalls 3, a zone, range 1..999, AvgService 5m", c)
	}
	if off := time.Date(2026, 7, 1, 0, 0, 0, 0, c.Location).Format("-07:00"); off != "+08:00" {
		t.Errorf("default zone offset = %s; want +08:00", off)
	}
}
