package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// restartCmd has the running kioskd stop cleanly and start again in place (to apply a node
// config the platform has sent), then waits until it answers again.
func restartCmd(args []string) error {
	fs := flag.NewFlagSet("kioskctl restart", flag.ContinueOnError)
	admin := fs.String("admin", "http://127.0.0.1:8080", "kioskd's admin URL")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for kioskd to be back")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	client := &http.Client{Timeout: 5 * time.Second}
	before, err := started(client, *admin)
	if err != nil {
		return err
	}
	resp, err := client.Post(*admin+"/api/restart", "text/plain", nil)
	if err != nil {
		return fmt.Errorf("kioskd not reachable at %s: %w", *admin, err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("kioskd refused the restart (%s): %s", resp.Status, msg)
	}
	deadline := time.Now().Add(*wait)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		// Back once it answers as a kioskd started after the one asked.
		if s, err := started(client, *admin); err == nil && s.After(before) {
			fmt.Println("kioskd restarted")
			return nil
		}
	}
	return fmt.Errorf("kioskd did not come back within %s: see its log", *wait)
}

// started is when the kioskd at admin started, from its health JSON.
func started(client *http.Client, admin string) (time.Time, error) {
	doc, _, err := fetchHealth(client, admin)
	if err == nil && doc.Started.IsZero() {
		err = fmt.Errorf("kioskd at %s does not say when it started: too old to restart this way", admin)
	}
	return doc.Started, err
}
