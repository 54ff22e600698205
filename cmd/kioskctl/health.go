package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/hallkiosk/hallkiosk/web"
)

func healthCmd(args []string) error {
	fs := flag.NewFlagSet("kioskctl health", flag.ContinueOnError)
	admin := fs.String("admin", "http://127.0.0.1:8080", "kioskd's admin URL")
	asJSON := fs.Bool("json", false, "print kioskd's JSON as it is")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	doc, body, err := fetchHealth(&http.Client{Timeout: 5 * time.Second}, *admin)
	if err != nil {
		return err
	}
	if *asJSON {
		os.Stdout.Write(body)
	} else {
		fmt.Printf("node %s (version %s), up %d s: %s\n", doc.Node, doc.Version, doc.UptimeS, doc.Overall)
		for _, c := range doc.Components {
			fmt.Printf("  %-12s %-9s %-22s %s\n", c.Component, c.State, c.Code, c.Message)
		}
	}
	if doc.Overall == "down" {
		return fmt.Errorf("a component is down")
	}
	return nil
}

// fetchHealth reads a running kioskd's /api/health: the document and its JSON as sent.
func fetchHealth(client *http.Client, admin string) (web.HealthDoc, []byte, error) {
	var doc web.HealthDoc
	resp, err := client.Get(admin + "/api/health")
	if err != nil {
		return doc, nil, fmt.Errorf("kioskd not reachable at %s: %w", admin, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return doc, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return doc, nil, fmt.Errorf("kioskd answered %s", resp.Status)
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return doc, nil, fmt.Errorf("kioskd answered something that is not its health JSON: %w", err)
	}
	return doc, body, nil
}
