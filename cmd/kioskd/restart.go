package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/hallkiosk/hallkiosk/kiosk"
)

// errRestart ends run when kioskd is to start again in place: to apply a new node config
// from the platform. main then re-executes the same binary with the same arguments (same
// process id, so a service manager sees one long-running kioskd).
var errRestart = errors.New("restart")

// restarting turns a clean stop that was asked for by n.restart into errRestart.
func restarting(ctx context.Context, err error) error {
	if err == nil && errors.Is(context.Cause(ctx), errRestart) {
		return errRestart
	}
	return err
}

// execSelf replaces this process with a fresh start of the same binary. It returns only
// when that fails.
func execSelf() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	return fmt.Errorf("restart: exec %s: %w", exe, syscall.Exec(exe, os.Args, os.Environ()))
}

// applyConfigAtNight restarts kioskd a minute after each hall-local midnight when the
// platform has sent a node config that differs from the one running: the hall is closed,
// the day's tickets are ended (end of day runs at start too), and the new categories and
// windows apply whole, for the new business day. A citizen using the screen then (a 24-hour
// self-service area) finishes first: the restart waits for the attract screen.
func (n *node) applyConfigAtNight(ctx context.Context) {
	loc := n.cfg.Location()
	for {
		now := n.clock.Now().In(loc)
		y, m, d := now.Date()
		next := time.Date(y, m, d+1, 0, 1, 0, 0, loc)
		select {
		case <-ctx.Done():
			return
		case <-n.clock.After(next.Sub(now)):
		}
		if !n.configPending.Load() {
			continue
		}
		for n.citizenActive() {
			select {
			case <-ctx.Done():
				return
			case <-n.clock.After(10 * time.Second):
			}
		}
		n.restart("the platform's new node config applies for the new business day")
		return
	}
}

// citizenActive: someone is using the citizen screen (anything but the attract loop).
func (n *node) citizenActive() bool {
	f := n.screenName.Load()
	if f == nil {
		return false
	}
	s := (*f)()
	return s != "" && s != kiosk.ScreenAttract
}

// restartHandler serves POST /api/restart: a clean stop and a fresh start, e.g. to apply a
// pending node config at once (kioskctl restart).
func (n *node) restartHandler(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintln(w, "restarting")
	n.restart("asked for on the admin API")
}
