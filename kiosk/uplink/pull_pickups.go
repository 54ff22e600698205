package uplink

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// Pickup is a certificate ready for pickup at this hall (metadata only; the document is
// read with Document). PrintedCopies counts the copies printed so far: the kiosk prints a
// pickup once, and again only with staff authorisation.
type Pickup struct {
	PickupID       string    `json:"pickup_id"`
	IDHash         string    `json:"id_hash"`
	HolderMasked   string    `json:"holder_masked"`
	Title          string    `json:"title"`
	Pages          int       `json:"pages"`
	Copies         int       `json:"copies"`
	DocumentSHA256 string    `json:"document_sha256"`
	ExpiresAt      time.Time `json:"expires_at"`
	PrintedCopies  int       `json:"printed_copies"`
	PrintedAt      time.Time `json:"printed_at"` // zero until printed
}

// LogValue leaves out the holder and the hash.
func (p Pickup) LogValue() slog.Value {
	return slog.GroupValue(slog.String("pickup_id", p.PickupID), slog.String("title", p.Title),
		slog.Int("pages", p.Pages), slog.Int("printed_copies", p.PrintedCopies))
}

// ErrNoPickup is a pickup id the node does not hold (never listed, expired, withdrawn by
// the platform, or already printed and acknowledged).
var ErrNoPickup = errors.New("uplink: no such pickup at this node")

var pullSHA256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)

func pullParsePickups(data []byte) ([]Pickup, error) {
	var l struct {
		Pickups *[]Pickup `json:"pickups"`
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("pickups are not the contract's shape: %w", err)
	}
	if l.Pickups == nil {
		return nil, errors.New(`pickups are not the contract's shape: no "pickups" list`)
	}
	var errs []error
	ids := map[string]bool{}
	for i, pk := range *l.Pickups {
		pk.DocumentSHA256 = strings.ToLower(pk.DocumentSHA256)
		(*l.Pickups)[i] = pk
		f := fmt.Sprintf("pickups[%d]", i)
		switch {
		case strings.TrimSpace(pk.PickupID) == "" || ids[pk.PickupID]:
			errs = append(errs, fmt.Errorf("%s: pickup_id %q is empty or appears twice", f, pk.PickupID))
		case pk.IDHash == "":
			// Without the holder's hash the kiosk could not check the card: never printable.
			errs = append(errs, fmt.Errorf("%s (%s): id_hash is empty", f, pk.PickupID))
		case !pullSHA256Re.MatchString(pk.DocumentSHA256):
			errs = append(errs, fmt.Errorf("%s (%s): document_sha256 is not 64 hex digits", f, pk.PickupID))
		case pk.ExpiresAt.IsZero() || pk.Pages < 1 || pk.Copies < 1:
			errs = append(errs, fmt.Errorf("%s (%s): expires_at, pages and copies are required", f, pk.PickupID))
		}
		ids[pk.PickupID] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return *l.Pickups, nil
}

// PullPickups fetches the list of pickups, prefetches the document of each new one,
// checks it against document_sha256 and stores it encrypted (AES-256-GCM under DocKey,
// random nonce, the pickup id as additional data). Pickups the platform no longer lists
// are deleted. A document whose hash does not match is refused (nothing of it is kept;
// *RefusedError, uplink.pickup_refused) while the others are stored; the list's ETag is
// kept only when every document arrived, so that a 304 never hides a missing one.
func (p *Puller) PullPickups(ctx context.Context) (changed bool, err error) {
	p.pullMu[pullPickups].Lock()
	defer p.pullMu[pullPickups].Unlock()
	changed, err = p.pullPickups(ctx)
	p.pullReport(ComponentPickups, err)
	return changed, err
}

func (p *Puller) pullPickups(ctx context.Context) (bool, error) {
	old, _, err := p.pullLoad(ctx, "pickups")
	if err != nil {
		return false, err
	}
	r, notModified, err := p.pullGet(ctx, "/v1/nodes/"+url.PathEscape(p.c.Client.Node)+"/pickups", old.ETag)
	if err != nil {
		return false, err
	}
	if notModified {
		return false, p.pullTouch(ctx, "pickups")
	}
	list, err := pullParsePickups(r.Body)
	if err != nil {
		return false, &RefusedError{What: "pickups", Err: err}
	}
	have := map[string]string{} // pickup id -> document sha256 of what is stored
	rows, err := p.c.DB.Read().QueryContext(ctx, `SELECT pickup_id, document_sha256 FROM downlink_pickups`)
	if err != nil {
		return false, fmt.Errorf("uplink: pickups: %w", err)
	}
	for rows.Next() {
		var id, sum string
		if err := rows.Scan(&id, &sum); err != nil {
			rows.Close()
			return false, fmt.Errorf("uplink: pickups: %w", err)
		}
		have[id] = sum
	}
	rows.Close()

	now := p.clk.Now()
	docs := map[string][]byte{} // new documents, sealed
	var problems []error
	for _, pk := range list {
		if sum, ok := have[pk.PickupID]; (ok && sum == pk.DocumentSHA256) || !pk.ExpiresAt.After(now) {
			continue
		}
		box, err := p.pullDocument(ctx, pk)
		if err != nil {
			var re *RefusedError
			if !errors.As(err, &re) && !errors.Is(err, ErrUnauthorized) {
				var rt *RetryError
				if !errors.As(err, &rt) {
					err = &RetryError{Err: err}
				}
			}
			problems = append(problems, err)
			if ctx.Err() != nil || errors.Is(err, ErrUnauthorized) {
				break
			}
			continue
		}
		docs[pk.PickupID] = box
	}

	listed := map[string]bool{}
	changed := false
	err = p.c.DB.Write(ctx, func(tx *store.Tx) error {
		for _, pk := range list {
			listed[pk.PickupID] = true
			sum, stored := have[pk.PickupID]
			box, fresh := docs[pk.PickupID]
			switch {
			case fresh: // new, or the platform replaced the document: start over
				_, err := tx.Exec(`INSERT INTO downlink_pickups (pickup_id, id_hash, holder_masked, title, pages,
					copies, document_sha256, expires_at, expires_ms, document, state, fetched_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?)
					ON CONFLICT (pickup_id) DO UPDATE SET id_hash = excluded.id_hash, holder_masked = excluded.holder_masked,
					title = excluded.title, pages = excluded.pages, copies = excluded.copies,
					document_sha256 = excluded.document_sha256, expires_at = excluded.expires_at,
					expires_ms = excluded.expires_ms, document = excluded.document, fetched_at = excluded.fetched_at
					WHERE state != 'done'`,
					pk.PickupID, pk.IDHash, idnum.MaskName(pk.HolderMasked), pk.Title, pk.Pages, pk.Copies,
					pk.DocumentSHA256, store.FormatTime(pk.ExpiresAt), pk.ExpiresAt.UnixMilli(), box, store.FormatTime(now))
				if err != nil {
					return err
				}
				changed = true
			case stored && sum == pk.DocumentSHA256: // keep the document and the printed count
				if _, err := tx.Exec(`UPDATE downlink_pickups SET title = ?, copies = ?, expires_at = ?, expires_ms = ?
					WHERE pickup_id = ?`, pk.Title, pk.Copies, store.FormatTime(pk.ExpiresAt), pk.ExpiresAt.UnixMilli(), pk.PickupID); err != nil {
					return err
				}
			}
		}
		for id := range have {
			if !listed[id] {
				if _, err := tx.Exec(`DELETE FROM downlink_pickups WHERE pickup_id = ?`, id); err != nil {
					return err
				}
				changed = true
			}
		}
		etag := r.Header.Get("ETag")
		if len(problems) > 0 {
			etag = "" // fetch the whole list again next time
		}
		return pullSave(tx, "pickups", etag, nil, now)
	})
	if err != nil {
		return false, fmt.Errorf("uplink: storing pickups: %w", err)
	}
	return changed, errors.Join(problems...)
}

// pullDocument fetches one pickup's document, checks its hash and seals it.
func (p *Puller) pullDocument(ctx context.Context, pk Pickup) ([]byte, error) {
	r, err := p.c.Client.Do(ctx, "GET", "/v1/pickups/"+url.PathEscape(pk.PickupID)+"/document", nil, "", nil)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(r.Body)
	if got := hex.EncodeToString(sum[:]); got != pk.DocumentSHA256 {
		clear(r.Body)
		return nil, &RefusedError{What: "pickup", Err: fmt.Errorf("pickup %s: the document's sha256 is %s, the list says %s: not stored", pk.PickupID, got[:12]+"…", pk.DocumentSHA256[:12]+"…")}
	}
	box, err := sealBytes(p.c.DocKey, r.Body, []byte(pk.PickupID))
	clear(r.Body)
	return box, err
}

// Pickups returns the pickups the node holds a document for, in expiry order. It works
// offline. Holders are masked.
func (p *Puller) Pickups(ctx context.Context) ([]Pickup, error) {
	rows, err := p.c.DB.Read().QueryContext(ctx, `SELECT pickup_id, id_hash, holder_masked, title, pages, copies,
		document_sha256, expires_at, printed_copies, COALESCE(printed_at, '') FROM downlink_pickups
		WHERE state != 'done' AND expires_ms > ? ORDER BY expires_ms, pickup_id`, p.clk.Now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("uplink: pickups: %w", err)
	}
	defer rows.Close()
	var out []Pickup
	for rows.Next() {
		var pk Pickup
		var exp, printed string
		if err := rows.Scan(&pk.PickupID, &pk.IDHash, &pk.HolderMasked, &pk.Title, &pk.Pages, &pk.Copies,
			&pk.DocumentSHA256, &exp, &pk.PrintedCopies, &printed); err != nil {
			return nil, fmt.Errorf("uplink: pickups: %w", err)
		}
		pk.ExpiresAt, _ = store.ParseTime(exp)
		if printed != "" {
			pk.PrintedAt, _ = store.ParseTime(printed)
		}
		out = append(out, pk)
	}
	return out, rows.Err()
}

// Document returns the decrypted document of a pickup, checked against its hash again.
// The caller must wipe it (clear) once printed.
func (p *Puller) Document(ctx context.Context, pickupID string) ([]byte, error) {
	var box []byte
	var sum string
	err := p.c.DB.Read().QueryRowContext(ctx, `SELECT document, document_sha256 FROM downlink_pickups
		WHERE pickup_id = ? AND state != 'done' AND expires_ms > ?`, pickupID, p.clk.Now().UnixMilli()).Scan(&box, &sum)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoPickup
	}
	if err != nil {
		return nil, fmt.Errorf("uplink: document of pickup %s: %w", pickupID, err)
	}
	doc, err := sealOpenBytes(p.c.DocKey, box, []byte(pickupID))
	if err != nil {
		return nil, fmt.Errorf("uplink: document of pickup %s: %w", pickupID, err)
	}
	if h := sha256.Sum256(doc); hex.EncodeToString(h[:]) != sum {
		return nil, fmt.Errorf("uplink: document of pickup %s does not match its hash", pickupID)
	}
	return doc, nil
}

// MarkPrinted records that copies of the pickup were printed. The document stays until
// the platform acknowledges the certificate.printed event (Settled). Call it before the
// event is appended to the outbox (or in the same transaction): an event the platform
// settles for a pickup not yet marked printed deletes nothing.
func (p *Puller) MarkPrinted(ctx context.Context, pickupID string, copies int) error {
	if copies < 1 {
		return fmt.Errorf("uplink: mark printed: %d copies", copies)
	}
	return p.c.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(`UPDATE downlink_pickups SET state = 'printed', printed_copies = printed_copies + ?,
			printed_at = ? WHERE pickup_id = ? AND state != 'done'`, copies, store.FormatTime(p.clk.Now()), pickupID)
		if err != nil {
			return fmt.Errorf("uplink: mark printed: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoPickup
		}
		return nil
	})
}

// EventCertificatePrinted is the event (stream business) the kiosk appends once it printed
// a pickup; its data holds pickup_id.
const EventCertificatePrinted = "certificate.printed"

// Settled is the Sender's Settled hook (SenderConfig.Settled): once the platform has the
// certificate.printed event of a pickup (accepted or duplicate), the pickup is acknowledged
// in the transaction that takes the event out of the outbox, so no crash leaves a printed
// certificate's document behind after the platform has the event. Other events pass.
// A pickup that is not printed here (expired, withdrawn, never marked) is logged and
// passed over: the event is delivered all the same and must not hold its stream.
func (p *Puller) Settled(tx *store.Tx, typ string, data json.RawMessage) error {
	if typ != EventCertificatePrinted {
		return nil
	}
	var d struct {
		PickupID string `json:"pickup_id"`
	}
	if err := json.Unmarshal(data, &d); err != nil || d.PickupID == "" {
		p.log.Warn("uplink: a certificate.printed event without a pickup_id was delivered; nothing to delete")
		return nil
	}
	err := pullAcknowledge(tx, d.PickupID)
	if errors.Is(err, ErrNoPickup) {
		p.log.Warn("uplink: certificate.printed delivered for a pickup not printed here", "pickup_id", d.PickupID)
		return nil
	}
	return err
}

// Acknowledged records that the platform has the certificate.printed event of a pickup
// (the Sender does it through Settled): the document and the holder's data are deleted,
// and a tombstone stays until the platform stops listing the pickup, so it is never
// fetched or printed again. A pickup that was not printed is left alone (an error).
func (p *Puller) Acknowledged(ctx context.Context, pickupID string) error {
	return p.c.DB.Write(ctx, func(tx *store.Tx) error { return pullAcknowledge(tx, pickupID) })
}

func pullAcknowledge(tx *store.Tx, pickupID string) error {
	res, err := tx.Exec(`UPDATE downlink_pickups SET state = 'done', document = NULL, id_hash = '', holder_masked = ''
		WHERE pickup_id = ? AND state = 'printed'`, pickupID)
	if err != nil {
		return fmt.Errorf("uplink: acknowledged: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var state string
		if tx.QueryRow(`SELECT state FROM downlink_pickups WHERE pickup_id = ?`, pickupID).Scan(&state) == nil && state == "done" {
			return nil // acknowledged twice: at least once delivery
		}
		return fmt.Errorf("uplink: acknowledged: pickup %s is not printed here: %w", pickupID, ErrNoPickup)
	}
	return nil
}

// Expire deletes every pickup past its expires_at, document and tombstone alike, and
// returns how many. Run calls it every round.
func (p *Puller) Expire(ctx context.Context) (int, error) {
	var n int64
	err := p.c.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(`DELETE FROM downlink_pickups WHERE expires_ms <= ?`, p.clk.Now().UnixMilli())
		if err != nil {
			return fmt.Errorf("uplink: expire pickups: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if n > 0 {
		p.log.Info("uplink: expired pickups deleted", "count", n)
	}
	return int(n), err
}
