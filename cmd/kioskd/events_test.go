package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// TestDeviceEventsAreBounded: the technician's history keeps the latest transitions only.
func TestDeviceEventsAreBounded(t *testing.T) {
	defer func(k int64) { deviceEventsKept = k }(deviceEventsKept)
	deviceEventsKept = 5
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kioskd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := &node{db: db, health: health.NewRegistry(time.Now), log: slog.New(slog.DiscardHandler)}
	stop := n.logHealthTransitions(context.Background())
	for i := range 12 {
		n.health.Report("printer", health.Degraded, fmt.Sprintf("printer.flap_%02d", i), "flapping")
	}
	stop()
	rows, err := db.Read().Query(`SELECT code FROM device_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		codes = append(codes, c)
	}
	rows.Close()
	if want := []string{"printer.flap_07", "printer.flap_08", "printer.flap_09", "printer.flap_10", "printer.flap_11"}; !slices.Equal(codes, want) {
		t.Errorf("device_events = %v; want the latest five %v", codes, want)
	}
}
