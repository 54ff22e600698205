package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"time"
)

// queueCmd talks to a running kioskd's hall LAN API. Its defaults fit `make run`: the API
// on 127.0.0.1:8081 and the tokens kioskd made in var/hall-tokens.json.
func queueCmd(args []string) error {
	if len(args) == 0 {
		return usageError{"usage: kioskctl queue issue|call|finish|status [flags]"}
	}
	fs := flag.NewFlagSet("kioskctl queue "+args[0], flag.ContinueOnError)
	hallURL := fs.String("hall", "http://127.0.0.1:8081", "the hall node's LAN API")
	tokensPath := fs.String("tokens", "var/hall-tokens.json", "the hall's tokens file (hall.tokens_file)")
	category := fs.String("category", "", "category code (issue)")
	window := fs.Int("window", 0, "window number (call, finish)")
	outcome := fs.String("outcome", "served", "served, no_show or cancelled (finish)")
	next := fs.String("next", "", "category the same ticket goes on to, a multi-step service (finish, served only)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	b, err := os.ReadFile(*tokensPath)
	if err != nil {
		return fmt.Errorf("hall tokens: %w (give --tokens, the hall node's hall.tokens_file)", err)
	}
	var tokens struct {
		Terminal []string          `json:"terminal"`
		Windows  map[string]string `json:"windows"`
	}
	if err := json.Unmarshal(b, &tokens); err != nil || len(tokens.Terminal) == 0 {
		return fmt.Errorf("hall tokens %s: not a tokens file", *tokensPath)
	}
	call := func(path, token string, body any) (map[string]any, error) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		method := "POST"
		if body == nil && path == "/hall/v1/status" {
			method = "GET"
		}
		req, err := http.NewRequest(method, *hallURL+path, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return nil, fmt.Errorf("hall node not reachable at %s: %w", *hallURL, err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&m); err != nil {
			return nil, fmt.Errorf("hall node answered %s with no JSON", resp.Status)
		}
		if resp.StatusCode >= 300 {
			if e, ok := m["error"].(map[string]any); ok {
				code, _ := e["code"].(string)
				return nil, hallError{code: code, message: fmt.Sprint(e["message"])}
			}
			return nil, fmt.Errorf("hall node answered %s", resp.Status)
		}
		return m, nil
	}
	windowToken := func() (string, error) {
		if *window <= 0 {
			return "", usageError{"--window N is required"}
		}
		t := tokens.Windows[strconv.Itoa(*window)]
		if t == "" {
			return "", fmt.Errorf("no token for window %d in %s", *window, *tokensPath)
		}
		return t, nil
	}
	print := func(m map[string]any, text string) error {
		if *asJSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetEscapeHTML(false)
			return enc.Encode(m)
		}
		fmt.Println(text)
		return nil
	}
	switch args[0] {
	case "issue":
		if *category == "" {
			return usageError{"--category is required"}
		}
		m, err := call("/hall/v1/tickets", tokens.Terminal[0], map[string]string{"category": *category})
		if err != nil {
			return err
		}
		out := map[string]any{"ticket": m["ticket"], "category": m["category"], "ahead": m["ahead"], "estimated_wait_s": m["estimated_wait_s"]}
		return print(out, fmt.Sprintf("ticket %v (category %v): %v ahead, about %v s wait", m["ticket"], m["category"], m["ahead"], m["estimated_wait_s"]))
	case "call":
		t, err := windowToken()
		if err != nil {
			return err
		}
		m, err := call(fmt.Sprintf("/hall/v1/windows/%d/call-next", *window), t, map[string]string{})
		if err != nil {
			return err
		}
		return print(m, fmt.Sprintf("window %d called %v", *window, m["ticket"]))
	case "finish":
		t, err := windowToken()
		if err != nil {
			return err
		}
		if *outcome == "served" {
			// The same as the window console: served on a ticket that is only called starts
			// its service first (the citizen came; staff skipped "start"). wrong_state means
			// it is serving already; no_ticket is left to the finish below to report, in
			// its own words.
			_, err := call(fmt.Sprintf("/hall/v1/windows/%d/start", *window), t, map[string]string{})
			if err != nil && !isCode(err, "wrong_state") && !isCode(err, "no_ticket") {
				return err
			}
		}
		body := map[string]string{"outcome": *outcome}
		if *next != "" {
			body["next"] = *next
		}
		m, err := call(fmt.Sprintf("/hall/v1/windows/%d/finish", *window), t, body)
		if err != nil {
			return err
		}
		if *next != "" {
			return print(m, fmt.Sprintf("window %d finished its step of %v; it waits in %v now", *window, m["ticket"], m["category"]))
		}
		return print(m, fmt.Sprintf("window %d finished %v: %v", *window, m["ticket"], m["outcome"]))
	case "status":
		m, err := call("/hall/v1/status", tokens.Terminal[0], nil)
		if err != nil {
			return err
		}
		waiting, _ := m["waiting"].(map[string]any)
		var cats []string
		for c := range waiting {
			cats = append(cats, c)
		}
		sort.Strings(cats)
		text := fmt.Sprintf("business date %v: served %v, no-shows %v, parked %v", m["business_date"], m["served"], m["no_shows"], m["parked"])
		for _, c := range cats {
			text += fmt.Sprintf("\n  %s waiting %v", c, waiting[c])
		}
		windows, _ := m["windows"].([]any)
		for _, w := range windows {
			w, _ := w.(map[string]any)
			text += fmt.Sprintf("\n  window %v %v", w["id"], w["state"])
			if tk, _ := w["ticket"].(string); tk != "" {
				text += fmt.Sprintf(" %s since %v", tk, w["since"])
			}
		}
		failures, _ := m["print_failures"].([]any)
		for _, f := range failures {
			f, _ := f.(map[string]any)
			text += fmt.Sprintf("\n  not printed: %v (category %v) at %v", f["ticket"], f["category"], f["at"])
		}
		return print(m, text)
	}
	return usageError{fmt.Sprintf("unknown queue command %q: use issue, call, finish or status", args[0])}
}

// hallError is an error answer of the hall LAN API: its stable code and its message.
type hallError struct{ code, message string }

func (e hallError) Error() string {
	if hint := codeHints[e.code]; hint != "" {
		return e.message + " (" + hint + ")"
	}
	return e.message
}

// codeHints say what to do about the errors a technician meets at the command line.
var codeHints = map[string]string{
	"no_ticket":    "the window holds no ticket, or nobody is waiting",
	"wrong_state":  "see kioskctl queue status for the window's ticket",
	"window_busy":  "finish the window's ticket first",
	"unauthorized": "the token in --tokens is not the hall node's: give the node's hall.tokens_file",
}

func isCode(err error, code string) bool {
	var he hallError
	return errors.As(err, &he) && he.code == code
}
