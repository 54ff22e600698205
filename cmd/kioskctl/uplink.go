package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// enrolCmd enrols the running kioskd with a platform: kioskd makes the request (it knows its
// node id, hall and devices), stores the token and switches its uplink over; events still in
// the outbox go to the new platform. The token never passes through kioskctl.
func enrolCmd(args []string) error {
	fs := flag.NewFlagSet("kioskctl enrol", flag.ContinueOnError)
	admin := fs.String("admin", "http://127.0.0.1:8080", "kioskd's admin URL")
	platform := fs.String("platform", "", "the platform's URL, e.g. https://platform.example.gov.cn")
	code := fs.String("code", "", "the one-time enrolment code from the platform operator")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *platform == "" || *code == "" {
		return usageError{"enrol needs --platform URL and --code CODE"}
	}
	body, _ := json.Marshal(map[string]string{"platform": *platform, "code": *code})
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Post(*admin+"/api/uplink/enrol", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("kioskd not reachable at %s: %w", *admin, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("enrolment failed (%s): %s", resp.Status, bytes.TrimSpace(msg))
	}
	fmt.Println("enrolled with", *platform)
	return nil
}

type uplinkDoc struct {
	Enrolled      bool   `json:"enrolled"`
	Platform      string `json:"platform"`
	ConfigPending bool   `json:"config_pending"`
	Overall       string `json:"overall"`
	Code          string `json:"code"`
	State         struct {
		Overall     string `json:"overall"`
		Code        string `json:"code"`
		Message     string `json:"message"`
		Backlog     int    `json:"backlog"`
		DeadLetters int    `json:"dead_letters"`
		Streams     []struct {
			Stream      string        `json:"stream"`
			Backlog     int           `json:"backlog"`
			OldestAge   time.Duration `json:"oldest_age"`
			LastSuccess time.Time     `json:"last_success"`
			LastError   string        `json:"last_error"`
		} `json:"streams"`
	} `json:"state"`
	Dead []struct {
		ID     string `json:"id"`
		Stream string `json:"stream"`
		Seq    int64  `json:"seq"`
		Type   string `json:"type"`
		Error  string `json:"error"`
	} `json:"dead"`
}

// uplinkCmd shows the uplink's state and dead letters, re-queues a dead letter, and resumes
// sending after the platform refused the node's token.
func uplinkCmd(args []string) error {
	sub := "status"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("kioskctl uplink "+sub, flag.ContinueOnError)
	admin := fs.String("admin", "http://127.0.0.1:8080", "kioskd's admin URL")
	asJSON := fs.Bool("json", false, "print kioskd's JSON as it is")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	switch sub {
	case "status", "dead":
		resp, err := client.Get(*admin + "/api/uplink")
		if err != nil {
			return fmt.Errorf("kioskd not reachable at %s: %w", *admin, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("kioskd answered %s: %s", resp.Status, bytes.TrimSpace(body))
		}
		if *asJSON {
			os.Stdout.Write(body)
			return nil
		}
		var d uplinkDoc
		if err := json.Unmarshal(body, &d); err != nil {
			return fmt.Errorf("kioskd answered something that is not its uplink JSON: %w", err)
		}
		if !d.Enrolled {
			fmt.Println("not enrolled: events wait in the outbox (kioskctl enrol --platform URL --code CODE)")
			return nil
		}
		if sub == "dead" {
			if len(d.Dead) == 0 {
				fmt.Println("no dead letters")
			}
			for _, x := range d.Dead {
				fmt.Printf("%s  %-9s seq %-6d %-22s %s\n", x.ID, x.Stream, x.Seq, x.Type, x.Error)
			}
			return nil
		}
		fmt.Printf("platform %s: %s (%s) %s; backlog %d, dead letters %d\n", d.Platform, d.State.Overall, d.State.Code,
			d.State.Message, d.State.Backlog, d.State.DeadLetters)
		for _, s := range d.State.Streams {
			last := "never"
			if !s.LastSuccess.IsZero() {
				last = s.LastSuccess.Local().Format(time.DateTime)
			}
			fmt.Printf("  %-10s backlog %-6d oldest %-10s last success %s %s\n", s.Stream, s.Backlog, s.OldestAge.Round(time.Second), last, s.LastError)
		}
		if d.ConfigPending {
			fmt.Println("a new node config from the platform is waiting: it applies after midnight, or now with kioskctl restart")
		}
		return nil
	case "requeue":
		if fs.NArg() != 1 {
			return usageError{"uplink requeue needs the dead letter's id (see kioskctl uplink dead)"}
		}
		resp, err := client.Post(*admin+"/api/uplink/dead/"+url.PathEscape(fs.Arg(0))+"/requeue", "", nil)
		if err != nil {
			return fmt.Errorf("kioskd not reachable at %s: %w", *admin, err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("requeue failed (%s): %s", resp.Status, bytes.TrimSpace(msg))
		}
		fmt.Println("re-queued", fs.Arg(0))
		return nil
	case "resume":
		if fs.NArg() != 0 {
			return usageError{"uplink resume takes no arguments"}
		}
		resp, err := client.Post(*admin+"/api/uplink/resume", "", nil)
		if err != nil {
			return fmt.Errorf("kioskd not reachable at %s: %w", *admin, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var ans struct {
			Resumed *bool `json:"resumed"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ans) != nil || ans.Resumed == nil {
			return fmt.Errorf("resume failed (%s): %s", resp.Status, bytes.TrimSpace(body))
		}
		if *asJSON {
			os.Stdout.Write(body)
			return nil
		}
		if !*ans.Resumed {
			fmt.Println("sending had not stopped: nothing to resume (kioskctl uplink shows the state)")
			return nil
		}
		fmt.Println("sending resumed; if the platform still refuses the token it stops again (see kioskctl uplink)")
		return nil
	}
	return usageError{fmt.Sprintf("unknown uplink command %q: use status, dead, requeue ID or resume", sub)}
}
