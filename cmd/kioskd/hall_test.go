package main

import (
	"strings"
	"testing"

	"github.com/hallkiosk/hallkiosk/internal/config"
)

// TestQueueConfigKeys: kioskd -check names the TOML keys a technician edits, not the
// engine's Go field names.
func TestQueueConfigKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(c *config.Config)
		want   []string
		absent []string
	}{
		{"duplicate code", func(c *config.Config) { c.Queue.Categories = append(c.Queue.Categories, c.Queue.Categories[0]) },
			[]string{"queue.category[", ".code appears twice"}, []string{"Categories[", ".Code"}},
		{"bad prefix", func(c *config.Config) { c.Queue.Categories[0].Prefix = "ab" },
			[]string{"queue.category[0]", ".prefix"}, []string{"Categories[", ".Prefix"}},
		{"bad range", func(c *config.Config) { c.Queue.Categories[0].Range = []int{10, 5} },
			[]string{"queue.category[0]", ".range", "range = [first, last]"}, []string{"RangeFrom"}},
		{"bad hours", func(c *config.Config) { c.Queue.Categories[0].Open = "9am" },
			[]string{"queue.category[0]", ".open"}, []string{".Open"}},
		{"weights", func(c *config.Config) {
			c.Queue.Windows = append(c.Queue.Windows, config.QueueWindow{ID: 1, Weights: map[string]int{"ZZ": 1}})
		}, []string{"queue.window[0]", ".weights", "[[queue.category]] codes"}, []string{"Policy", "Windows["}},
		{"recalls", func(c *config.Config) { c.Queue.MaxRecalls = -1 },
			[]string{"queue.max_recalls"}, []string{"MaxRecalls"}},
	} {
		c := config.Default()
		tc.edit(c)
		_, err := queueConfig(c)
		if err == nil {
			t.Errorf("%s: queueConfig = nil; want an error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q; want it to contain %q", tc.name, err, w)
			}
		}
		for _, a := range tc.absent {
			if strings.Contains(err.Error(), a) {
				t.Errorf("%s: error %q still says %q", tc.name, err, a)
			}
		}
	}
}
