// Command crashtest kills kioskd with SIGKILL at random moments while clients issue, call,
// start and finish tickets over the hall API, restarts it each time, and at the end checks
// the database against every success answer a client got.
//
// Output: first, on stderr, the line "seed=N" (pass -seed N to replay the same kill
// intervals; the interleaving of clients and kioskd is up to the scheduler, so a replay
// repeats the pattern, not the exact run). Last, on stdout, exactly one summary line:
//
//	kills=N acked=N lost=N duplicates=N integrity=ok
//
// and the exit status is non-zero when lost or duplicates is not 0, integrity is not ok,
// fewer kills than -kills were done within -max, no ticket was issued or finished, or
// the waiting counts kioskd reports after its last restart (kept in memory) differ from
// the database's.
//
//   - acked counts acknowledged operations of every kind: issues answered 201 and
//     call-next, start and finish answered 200 (the split is printed on stderr). Each is
//     tied to its ticket by number and business date: the hall-local date of the ticket's
//     issued_at in the answer, which is how the queue numbers (numbers start afresh daily).
//   - lost counts acknowledged operations the database does not reflect: an issued ticket
//     that is not stored, or whose stored row has another issue time (its commit was lost
//     and the number issued again); a ticket whose acknowledged call, start or finish is not
//     in its row (called_at and window, started_at, finished with that outcome); the same
//     operation acknowledged twice for one ticket (possible only if the first was undone);
//     and a ticket missing one of its outbox events.
//   - duplicates counts a number issued twice on one day (two 201s for the same number and
//     date; the acks are counted per number and date, never collapsed), a number stored
//     twice for a day, outbox events beyond the one set per ticket (one ticket.issued,
//     one ticket.called once called, one ticket.finished once finished) or belonging to no
//     ticket, and a person with two open tickets in one category (one client swipes the
//     ID cards of 64 people now and then; a second swipe must get the open ticket back).
//   - integrity is PRAGMA integrity_check's answer ("bad" in the line, the text on stderr).
//
// What it cannot show: SIGKILL ends the process but not the kernel. Every write(2) that
// reached the OS page cache survives it, fsync or not, so a build that committed with
// synchronous=OFF (or never fsynced at all) passes this test as well. Only losing power,
// or a crash below the page cache (a VM reset, dm-flakey/dm-log-writes), tests that
// commits reach the disk; this tool does not simulate that. What it does catch: answers sent
// before their transaction committed, state kept in memory across an answer, events not
// written in the business transaction, numbering that repeats after a restart, and
// recovery at start-up (WAL replay, end-of-day, migrations) that undoes or damages rows.
package main

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// hallZone is the node's [node] timezone in the config written below; business dates of
// acknowledged tickets are computed in it.
const hallZone = "Asia/Shanghai"

func main() {
	kioskd := flag.String("kioskd", "bin/kioskd", "kioskd binary")
	kills := flag.Int("kills", 200, "how many times to SIGKILL kioskd")
	budget := flag.Duration("max", 10*time.Minute, "stop after this long whatever the count")
	dir := flag.String("dir", "", "working directory (default: a new temporary one)")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (printed, for replay)")
	flag.Parse()
	fmt.Fprintf(os.Stderr, "seed=%d\n", *seed)
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

// acks collects what clients were told, from every client goroutine.
type acks struct {
	mu   sync.Mutex
	list []ack
	bad  []string // success answers that did not name a ticket: the API broke its contract
}

func (a *acks) add(o op, window int, body []byte, hall *time.Location) {
	k, err := parseAck(o, window, body, hall)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.bad = append(a.bad, err.Error())
		return
	}
	a.list = append(a.list, k)
}

func run(bin string, kills int, budget time.Duration, dir string, seed uint64) error {
	hall, err := time.LoadLocation(hallZone)
	if err != nil {
		return fmt.Errorf("the hall's zone: %w (kioskd needs the zone database too)", err)
	}
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
timezone = %q
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
[[queue.category]]
code = "C"
range = [1, 9999]
windows = [1, 3]
[[queue.category]]
code = "D"
range = [1, 9999]
windows = [1, 2, 3]
`, hallZone, db, admin, hallAddr)
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
	// post returns the status and the whole body; 0 when there was no complete answer
	// (kioskd is down, or was killed mid-request): that is not an acknowledgement.
	post := func(path, token, body string) (int, []byte) {
		req, _ := http.NewRequest("POST", "http://"+hallAddr+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, nil
		}
		return resp.StatusCode, b
	}

	var got acks
	var stop atomic.Bool
	var refused atomic.Int64  // issues answered 409: with four categories of 9999 numbers a day, none in a normal run
	var existing atomic.Int64 // card swipes answered 200 with the person's open ticket
	var wg sync.WaitGroup
	for c := 0; c < 3; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				cat := []string{"A", "B", "C", "D"}[i%4]
				req := `{"category":"` + cat + `"}`
				if c == 0 && i%3 == 0 {
					// An ID card of one of 64 people: a person with an open ticket in
					// the category gets it back (200), not a second one.
					req = `{"category":"` + cat + `","source":"id_card","id_hash":"` + personHash(i/3%64) + `"}`
				}
				switch code, body := post("/hall/v1/tickets", tk.Terminal[0], req); code {
				case http.StatusCreated:
					got.add(opIssue, 0, body, hall)
				case http.StatusOK:
					existing.Add(1)
				case http.StatusConflict:
					refused.Add(1)
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
				for _, s := range []struct {
					o    op
					path string
					body string
				}{{opCall, "call-next", ""}, {opStart, "start", ""}, {opFinish, "finish", `{"outcome":"served"}`}} {
					if code, body := post(path+s.path, tok, s.body); code == http.StatusOK {
						got.add(s.o, w, body, hall)
					}
				}
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
	// The queue keeps its waiting counts in memory, rebuilt after each restart and moved
	// by every operation since: with the clients stopped they must match the database.
	reported, statusErr := waitingReported(client, "http://"+hallAddr+"/hall/v1/status", tk.Terminal[0])
	cur.Process.Kill()
	cur.Wait()

	fmt.Fprintf(os.Stderr, "card swipes answered with the person's open ticket: %d\n", existing.Load())
	if n := refused.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "%d issues were refused with 409 (numbers of the day used up?): fewer tickets were issued under the kills\n", n)
	}
	res, err := checkFile(db, got.list)
	if err != nil {
		return err
	}
	verdict := report(os.Stdout, os.Stderr, res, got.bad, done, kills)
	if statusErr != nil {
		return errors.Join(verdict, fmt.Errorf("reading the waiting counts from kioskd: %w", statusErr))
	}
	stored, err := waitingStored(db)
	if err != nil {
		return errors.Join(verdict, err)
	}
	return errors.Join(verdict, compareWaiting(reported, stored))
}

// personHash is the ID hash (hex HMAC-SHA256, as kiosks send it) of test person n.
func personHash(n int) string {
	h := sha256.Sum256([]byte("crashtest person " + strconv.Itoa(n)))
	return hex.EncodeToString(h[:])
}

// waitingReported is the waiting count per category that kioskd's hall status gives.
func waitingReported(client *http.Client, url, token string) (map[string]int, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st struct {
		Waiting map[string]int `json:"waiting"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return st.Waiting, nil
}

// waitingStored counts the waiting tickets per category in the database file.
func waitingStored(path string) (map[string]int, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT category, COUNT(*) FROM queue_tickets WHERE state = 'waiting' GROUP BY category`)
	if err != nil {
		return nil, fmt.Errorf("counting the waiting tickets: %w", err)
	}
	defer rows.Close()
	n := map[string]int{}
	for rows.Next() {
		var c string
		var k int
		if err := rows.Scan(&c, &k); err != nil {
			return nil, err
		}
		n[c] = k
	}
	return n, rows.Err()
}

// compareWaiting fails when kioskd reported other waiting counts than the database holds
// (a category missing on one side counts as 0).
func compareWaiting(reported, stored map[string]int) error {
	var diff []string
	for _, m := range []map[string]int{reported, stored} {
		for c := range m {
			if reported[c] != stored[c] && !slices.Contains(diff, c) {
				diff = append(diff, c)
			}
		}
	}
	if len(diff) == 0 {
		return nil
	}
	slices.Sort(diff)
	var b strings.Builder
	for _, c := range diff {
		fmt.Fprintf(&b, " %s: kioskd %d, database %d;", c, reported[c], stored[c])
	}
	return fmt.Errorf("waiting counts after the last restart differ from the database:%s", strings.TrimSuffix(b.String(), ";"))
}

// report prints the problems and the per-kind counts on stderr and the summary line alone
// on stdout, and returns the run's verdict: non-nil (main exits 1) on any loss.
func report(stdout, stderr io.Writer, res result, bad []string, kills, wantKills int) error {
	fmt.Fprintf(stderr, "acked: issue=%d call=%d start=%d finish=%d\n",
		res.ByOp[opIssue], res.ByOp[opCall], res.ByOp[opStart], res.ByOp[opFinish])
	for _, d := range res.Detail {
		fmt.Fprintln(stderr, d)
	}
	for _, d := range bad {
		fmt.Fprintln(stderr, "bad answer:", d)
	}
	fmt.Fprintln(stdout, res.summary(kills))
	if err := res.verdict(kills, wantKills); err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d success answers named no ticket", len(bad))
	}
	return nil
}

// checkFile runs check on the database file kioskd left after its last kill.
func checkFile(path string, acks []ack) (result, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		return result{}, err
	}
	defer db.Close()
	return check(db, acks)
}
