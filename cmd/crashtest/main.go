// Command crashtest kills kioskd with SIGKILL at random moments while clients issue, call
// and finish tickets, restarts it, and checks that nothing acknowledged was lost or
// doubled. It prints one line: kills=N acked=N lost=N duplicates=N integrity=ok|...
package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	kioskd := flag.String("kioskd", "bin/kioskd", "kioskd binary")
	kills := flag.Int("kills", 200, "how many times to SIGKILL kioskd")
	budget := flag.Duration("max", 10*time.Minute, "stop after this long whatever the count")
	dir := flag.String("dir", "", "working directory (default: a new temporary one)")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (printed, for replay)")
	flag.Parse()
	if err := run(*kioskd, *kills, *budget, *dir, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		os.Exit(1)
	}
}

type tokens struct {
	Terminal []string          `json:"terminal"`
	Windows  map[string]string `json:"windows"`
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func run(bin string, kills int, budget time.Duration, dir string, seed uint64) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "hallkiosk-crashtest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	admin, hallAddr := freePort(), freePort()
	db := filepath.Join(dir, "kioskd.db")
	cfg := fmt.Sprintf(`version = 1
[node]
id = "crashtest"
roles = ["hall"]
[store]
path = %q
[admin]
listen = %q
[hall]
listen = %q
[log]
format = "json"
level = "warn"
[queue]
[[queue.category]]
code = "A"
range = [1, 9999]
windows = [1, 2]
[[queue.category]]
code = "B"
range = [1, 9999]
windows = [2, 3]
`, db, admin, hallAddr)
	cfgPath := filepath.Join(dir, "kioskd.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "kioskd.log"))
	if err != nil {
		return err
	}
	defer logf.Close()

	var cur *exec.Cmd
	startNode := func() error {
		cur = exec.Command(bin, "-config", cfgPath)
		cur.Stdout, cur.Stderr = logf, logf
		if err := cur.Start(); err != nil {
			return err
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if r, err := http.Get("http://" + admin + "/healthz"); err == nil {
				r.Body.Close()
				if _, err := os.Stat(filepath.Join(dir, "hall-tokens.json")); err == nil {
					return nil
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		return fmt.Errorf("kioskd did not come up; see %s", logf.Name())
	}
	if err := startNode(); err != nil {
		return err
	}
	var tk tokens
	b, err := os.ReadFile(filepath.Join(dir, "hall-tokens.json"))
	if err != nil || json.Unmarshal(b, &tk) != nil {
		return fmt.Errorf("reading the tokens kioskd made: %v", err)
	}

	client := &http.Client{Timeout: 3 * time.Second}
	post := func(path, token, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", "http://"+hallAddr+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil // kioskd is down or was killed mid-request: not acknowledged
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}

	var mu sync.Mutex
	acked := map[string]bool{} // ticket numbers a client got a 201 for
	var stop atomic.Bool
	var wg sync.WaitGroup
	for c := 0; c < 3; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				cat := []string{"A", "B"}[i%2]
				code, m := post("/hall/v1/tickets", tk.Terminal[0], `{"category":"`+cat+`"}`)
				if code == 201 {
					mu.Lock()
					acked[m["ticket"].(string)] = true
					mu.Unlock()
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	for w := 1; w <= 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := tk.Windows[strconv.Itoa(w)]
			path := "/hall/v1/windows/" + strconv.Itoa(w) + "/"
			for !stop.Load() {
				post(path+"call-next", tok, "")
				post(path+"start", tok, "")
				post(path+"finish", tok, `{"outcome":"served"}`)
				time.Sleep(3 * time.Millisecond)
			}
		}()
	}

	start := time.Now()
	done := 0
	for done < kills && time.Since(start) < budget {
		time.Sleep(time.Duration(20+rng.IntN(250)) * time.Millisecond)
		cur.Process.Kill() // SIGKILL: no clean shutdown, whatever it was doing
		cur.Wait()
		done++
		if err := startNode(); err != nil {
			stop.Store(true)
			wg.Wait()
			return err
		}
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	cur.Process.Kill()
	cur.Wait()

	lost, dups, integrity, detail, err := check(db, acked)
	if err != nil {
		return err
	}
	fmt.Printf("kills=%d acked=%d lost=%d duplicates=%d integrity=%s seed=%d\n", done, len(acked), lost, dups, integrity, seed)
	if detail != "" {
		fmt.Fprintln(os.Stderr, detail)
	}
	if done < kills {
		return fmt.Errorf("only %d of %d kills within %s", done, kills, budget)
	}
	if lost != 0 || dups != 0 || integrity != "ok" || len(acked) == 0 {
		return fmt.Errorf("the queue lost or doubled tickets, or the database is damaged")
	}
	return nil
}

// check opens the database after the last kill and compares it with what clients were told.
func check(path string, acked map[string]bool) (lost, dups int, integrity, detail string, err error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		return 0, 0, "", "", err
	}
	defer db.Close()
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil {
		return 0, 0, "", "", err
	}
	stored := map[string]int{}
	rows, err := db.Query(`SELECT number, count(*) FROM queue_tickets GROUP BY number, business_date`)
	if err != nil {
		return 0, 0, "", "", err
	}
	for rows.Next() {
		var n string
		var c int
		rows.Scan(&n, &c)
		stored[n] += c
	}
	rows.Close()
	for n := range acked {
		if stored[n] == 0 {
			lost++
			detail += "lost " + n + "\n"
		}
	}
	for n, c := range stored {
		if c > 1 {
			dups++
			detail += fmt.Sprintf("number %s stored %d times\n", n, c)
		}
	}
	// Every stored ticket has exactly one ticket.issued event, and every finished one
	// exactly one ticket.finished, in the outbox (nothing has been sent up yet).
	q := func(typ string) (map[string]int, error) {
		m := map[string]int{}
		rows, err := db.Query(`SELECT json_extract(data, '$.ticket'), count(*) FROM outbox WHERE type = ? GROUP BY 1`, typ)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			var c int
			rows.Scan(&n, &c)
			m[n] = c
		}
		return m, rows.Err()
	}
	issued, err := q("ticket.issued")
	if err != nil {
		return 0, 0, "", "", err
	}
	finished, err := q("ticket.finished")
	if err != nil {
		return 0, 0, "", "", err
	}
	rows, err = db.Query(`SELECT number, state FROM queue_tickets`)
	if err != nil {
		return 0, 0, "", "", err
	}
	defer rows.Close()
	for rows.Next() {
		var n, st string
		rows.Scan(&n, &st)
		if issued[n] != 1 {
			dups++
			detail += fmt.Sprintf("ticket %s has %d ticket.issued events\n", n, issued[n])
		}
		want := 0
		if st == "finished" {
			want = 1
		}
		if finished[n] != want {
			dups++
			detail += fmt.Sprintf("ticket %s (%s) has %d ticket.finished events\n", n, st, finished[n])
		}
	}
	return lost, dups, integrity, detail, rows.Err()
}
