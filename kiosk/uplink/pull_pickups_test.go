package uplink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/health"
)

const pullPickupsPath = "/v1/nodes/hall-0571-01-t03/pickups"

func pullPDF(n int) []byte {
	return fmt.Appendf(nil, "%%PDF-1.7\n%% certificate %d\n1 0 obj << /Type /Catalog >> endobj\n%%%%EOF\n", n)
}

func pullSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func pullPickupJSON(id string, doc []byte, expires time.Time) string {
	return fmt.Sprintf(`{"pickup_id": %q, "id_hash": "ab12", "holder_masked": "张三", "title": "营业执照", "pages": 1,
		"copies": 1, "document_sha256": %q, "expires_at": %q}`, id, pullSum(doc), expires.Format(time.RFC3339Nano))
}

func TestPullPickups(t *testing.T) {
	f := newPullFake(t)
	r := newPullRig(t, f.srv.URL, nil)
	ctx := context.Background()
	doc1, doc2 := pullPDF(1), pullPDF(2)
	exp := pullT0.Add(7 * 24 * time.Hour)
	f.setBytes("/v1/pickups/pk-1/document", doc1)
	f.setBytes("/v1/pickups/pk-2/document", doc2)
	f.set(pullPickupsPath, `{"pickups": [`+pullPickupJSON("pk-1", doc1, exp)+`, `+pullPickupJSON("pk-2", doc2, exp.Add(time.Hour))+`]}`)

	if changed, err := r.p.PullPickups(ctx); !changed || err != nil {
		t.Fatalf("PullPickups = %v, %v", changed, err)
	}
	list, err := r.p.Pickups(ctx)
	if err != nil || len(list) != 2 || list[0].PickupID != "pk-1" || list[0].HolderMasked != "张*" || list[0].IDHash != "ab12" {
		t.Fatalf("Pickups = %+v, %v", list, err)
	}

	// At rest the documents are encrypted: no PDF in the column, nor anywhere in the file.
	rows, _ := r.db.Read().Query(`SELECT document FROM downlink_pickups`)
	for rows.Next() {
		var raw []byte
		rows.Scan(&raw)
		if bytes.Contains(raw, []byte("%PDF")) || bytes.Contains(raw, []byte("certificate")) {
			t.Fatalf("a document is stored in clear: %.40q", raw)
		}
	}
	rows.Close()
	got, err := r.p.Document(ctx, "pk-2")
	if err != nil || !bytes.Equal(got, doc2) {
		t.Fatalf("Document(pk-2) = %.20q, %v", got, err)
	}

	// Listed again: the documents are not fetched again.
	hits := f.count(f.hits, "/v1/pickups/pk-1/document")
	if changed, err := r.p.PullPickups(ctx); changed || err != nil {
		t.Fatalf("PullPickups again = %v, %v", changed, err)
	}
	if f.count(f.hits, "/v1/pickups/pk-1/document") != hits {
		t.Fatal("a stored document was fetched again")
	}

	// Printed and acknowledged: the document is gone, and a late listing does not bring it back.
	if err := r.p.Acknowledged(ctx, "pk-1"); err == nil {
		t.Fatal("Acknowledged before printing succeeded")
	}
	if err := r.p.MarkPrinted(ctx, "pk-1", 1); err != nil {
		t.Fatal(err)
	}
	if l, _ := r.p.Pickups(ctx); l[0].PrintedCopies != 1 || !l[0].PrintedAt.Equal(pullT0) {
		t.Fatalf("after MarkPrinted: %+v", l[0])
	}
	if err := r.p.Acknowledged(ctx, "pk-1"); err != nil {
		t.Fatal(err)
	}
	if err := r.p.Acknowledged(ctx, "pk-1"); err != nil {
		t.Fatalf("a second Acknowledged (at least once delivery) = %v", err)
	}
	if _, err := r.p.Document(ctx, "pk-1"); !errors.Is(err, ErrNoPickup) {
		t.Fatalf("Document after ack = %v; want ErrNoPickup", err)
	}
	var n int
	r.db.Read().QueryRow(`SELECT COUNT(*) FROM downlink_pickups WHERE document IS NOT NULL OR id_hash != '' AND pickup_id = 'pk-1'`).Scan(&n)
	if n != 1 { // only pk-2 still holds a document
		t.Fatalf("%d rows hold a document or a holder after the ack; want 1", n)
	}
	r.p.PullPickups(ctx)
	if l, _ := r.p.Pickups(ctx); len(l) != 1 || l[0].PickupID != "pk-2" {
		t.Fatalf("after ack and a new pull: %+v", l)
	}

	// Expired: deleted.
	r.clk.Advance(7*24*time.Hour + 30*time.Minute)
	if l, _ := r.p.Pickups(ctx); len(l) != 1 {
		t.Fatalf("before expiry of pk-2: %+v", l)
	}
	r.clk.Advance(time.Hour)
	if n, err := r.p.Expire(ctx); n != 2 || err != nil { // pk-2 and pk-1's tombstone
		t.Fatalf("Expire = %d, %v; want 2", n, err)
	}
	r.db.Read().QueryRow(`SELECT COUNT(*) FROM downlink_pickups`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d pickup rows after expiry", n)
	}
}

func TestPullPickupsBadHash(t *testing.T) {
	f := newPullFake(t)
	r := newPullRig(t, f.srv.URL, nil)
	ctx := context.Background()
	good, bad := pullPDF(1), pullPDF(2)
	exp := pullT0.Add(24 * time.Hour)
	f.setBytes("/v1/pickups/pk-1/document", good)
	f.setBytes("/v1/pickups/pk-2/document", append(bytes.Clone(bad), '!')) // not what the list says
	list := `{"pickups": [` + pullPickupJSON("pk-1", good, exp) + `, ` + pullPickupJSON("pk-2", bad, exp) + `]}`
	f.set(pullPickupsPath, list)

	_, err := r.p.PullPickups(ctx)
	var ref *RefusedError
	if !errors.As(err, &ref) || !strings.Contains(err.Error(), "pk-2") || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("PullPickups with a wrong document = %v; want refused naming pk-2 and sha256", err)
	}
	if st := r.health(t, ComponentPickups); st.State != health.Degraded || st.Code != "uplink.pickup_refused" {
		t.Fatalf("health = %+v", st)
	}
	var n int
	r.db.Read().QueryRow(`SELECT COUNT(*) FROM downlink_pickups WHERE pickup_id = 'pk-2'`).Scan(&n)
	if n != 0 {
		t.Fatal("something of the refused pickup was kept")
	}
	if l, _ := r.p.Pickups(ctx); len(l) != 1 || l[0].PickupID != "pk-1" {
		t.Fatalf("the good pickup was not kept: %+v", l)
	}
	// The list is fetched in full again (no ETag kept), and once the document is right it arrives.
	f.setBytes("/v1/pickups/pk-2/document", bad)
	if changed, err := r.p.PullPickups(ctx); !changed || err != nil {
		t.Fatalf("PullPickups once fixed = %v, %v", changed, err)
	}
	if st := r.health(t, ComponentPickups); st.State != health.OK {
		t.Fatalf("health once fixed = %+v", st)
	}
	if d, err := r.p.Document(ctx, "pk-2"); err != nil || !bytes.Equal(d, bad) {
		t.Fatalf("Document(pk-2) = %v", err)
	}

	// Withdrawn by the platform: deleted.
	f.set(pullPickupsPath, `{"pickups": [`+pullPickupJSON("pk-2", bad, exp)+`]}`)
	if changed, err := r.p.PullPickups(ctx); !changed || err != nil {
		t.Fatalf("PullPickups after a withdrawal = %v, %v", changed, err)
	}
	if _, err := r.p.Document(ctx, "pk-1"); !errors.Is(err, ErrNoPickup) {
		t.Fatalf("withdrawn pickup still there: %v", err)
	}
}
