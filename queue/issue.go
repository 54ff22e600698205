package queue

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// Issue gives a new ticket, or the open one the same person already holds in that category
// (Existing set, no event). The returned Estimate is for that ticket's place.
func (q *Queue) Issue(ctx context.Context, req IssueRequest) (Ticket, Estimate, error) {
	var t Ticket
	var est Estimate
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		var err error
		t, err = q.issue(ctx, tx, now, req)
		if err != nil {
			return err
		}
		est, err = q.estimateFor(ctx, tx, now, t)
		return err
	})
	if err != nil {
		return Ticket{}, Estimate{}, err
	}
	return t, est, nil
}

func (q *Queue) issue(ctx context.Context, tx *store.Tx, now time.Time, req IssueRequest) (Ticket, error) {
	cat := q.cats[req.Category]
	if cat == nil {
		return Ticket{}, fmt.Errorf("%w: %q", ErrUnknownCategory, req.Category)
	}
	class := classNormal
	switch req.Source {
	case SourceWalkIn:
		if req.IDHash != "" || req.AppointmentID != "" {
			return Ticket{}, fmt.Errorf("%w: a walk_in ticket carries no IDHash or AppointmentID", ErrBadRequest)
		}
	case SourceIDCard:
		// Only the hash ever enters the queue and its events: a raw ID number must not.
		if !idHash(req.IDHash) {
			return Ticket{}, fmt.Errorf("%w: an id_card ticket needs id_hash, the hex HMAC-SHA256 of the ID number (64 lowercase hex digits)", ErrBadRequest)
		}
		if req.AppointmentID != "" {
			return Ticket{}, fmt.Errorf("%w: an id_card ticket carries no appointment_id", ErrBadRequest)
		}
	case SourceAppointment:
		if !code(req.AppointmentID, 64) || idnum.ValidID(req.AppointmentID) {
			return Ticket{}, fmt.Errorf("%w: an appointment ticket needs appointment_id, the platform's id (1-64 printable ASCII characters, no spaces, not an ID number)", ErrBadRequest)
		}
		if req.IDHash != "" && !idHash(req.IDHash) {
			return Ticket{}, fmt.Errorf("%w: id_hash must be the hex HMAC-SHA256 of the ID number (64 lowercase hex digits)", ErrBadRequest)
		}
		class = classAppointment
	default:
		return Ticket{}, fmt.Errorf("%w: source %q; want walk_in, id_card or appointment", ErrBadRequest, req.Source)
	}
	if !maskedName(req.MaskedName) {
		return Ticket{}, fmt.Errorf("%w: masked_name must be a masked name such as 张* (at most 8 characters, with *, no digits)", ErrBadRequest)
	}
	switch req.Priority {
	case PriorityNormal:
		if req.Source == SourceAppointment {
			req.Priority = PriorityAppointment
		}
	case PriorityGreen:
		class = min(class, classGreen)
	case PriorityAppointment:
		if req.Source != SourceAppointment {
			return Ticket{}, fmt.Errorf("%w: priority appointment needs source appointment (a checked-in appointment)", ErrBadRequest)
		}
	default:
		return Ticket{}, fmt.Errorf("%w: priority %q; want \"\", green or appointment", ErrBadRequest, req.Priority)
	}

	// One open ticket per person and category: a second card swipe returns it (to reprint),
	// it does not queue twice. The same for an appointment checked in twice.
	var held []string
	if req.IDHash != "" {
		held = append(held, personKey(req.IDHash, req.Category))
	}
	if req.AppointmentID != "" {
		held = append(held, appointmentKey(req.AppointmentID))
	}
	for _, key := range held {
		id, err := q.holder(ctx, tx, key)
		if err != nil {
			return Ticket{}, err
		}
		if id == 0 {
			continue
		}
		t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets WHERE id = ?`, id))
		if err != nil {
			return Ticket{}, fmt.Errorf("queue: the open ticket %d of the same person or appointment: %w", id, err)
		}
		if t.State == Finished {
			// Memory and database disagree: never hand back a finished ticket as the
			// citizen's open one. The database decides; the holders are read again.
			q.holders = nil
			return q.issue(ctx, tx, now, req)
		}
		t.Existing = true
		return t, nil
	}

	// Hours, range and cap limit new tickets only: someone who already holds one gets it
	// back (a reprint) above, even after closing.
	if cat.Open != "" {
		open, _ := parseClock(cat.Open)
		closeAt, _ := parseClock(cat.Close)
		if m := now.Hour()*60 + now.Minute(); m < open || m >= closeAt {
			return Ticket{}, fmt.Errorf("%w: %q issues tickets %s-%s", ErrClosed, cat.Code, cat.Open, cat.Close)
		}
	}
	date := q.businessDate(now)
	n, err := q.nextNumber(ctx, tx, cat, date)
	if err != nil {
		return Ticket{}, err
	}
	t := Ticket{
		Number: formatNumber(cat, n), Category: cat.Code, OriginCategory: cat.Code, BusinessDate: date,
		State: Waiting, Priority: req.Priority, Source: req.Source, IDHash: req.IDHash, AppointmentID: req.AppointmentID,
		MaskedName: req.MaskedName, IssuedAt: now, class: class, fresh: true, queueKey: now.UnixMilli(), sinceMS: now.UnixMilli(),
	}
	for attempt := 0; ; attempt++ {
		res, err := tx.ExecContext(ctx, `INSERT INTO queue_tickets(business_date, number, origin_category, category, state,
			priority, source, id_hash, appointment_id, class, queue_key, issued_at, since_ms, name_masked)
			VALUES(?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(number, business_date) DO NOTHING`,
			date, t.Number, t.Category, t.Category, t.Priority, t.Source, nullable(t.IDHash), nullable(t.AppointmentID),
			t.class, t.queueKey, store.FormatTime(now), t.sinceMS, t.MaskedName)
		if err != nil {
			return Ticket{}, err
		}
		if added, err := res.RowsAffected(); err != nil {
			return Ticket{}, err
		} else if added == 1 {
			if t.ID, err = res.LastInsertId(); err != nil {
				return Ticket{}, err
			}
			q.track(&t)
			break
		}
		if attempt > 0 {
			return Ticket{}, fmt.Errorf("queue: number %s was issued today already, and so was the next after the highest", t.Number)
		}
		// The number was issued today under another category code (renamed in the config,
		// or a prefix and range moved between categories): go past every number of this
		// prefix and range issued today. Numbers never repeat within a day.
		if n, err = q.skipIssued(ctx, tx, cat, date); err != nil {
			return Ticket{}, err
		}
		t.Number = formatNumber(cat, n)
	}
	if err := emit(tx, now, "ticket.issued", issuedEvent(&t)); err != nil {
		return Ticket{}, err
	}
	if t.Source == SourceAppointment {
		if err := emit(tx, now, "appointment.checked_in", checkedInEvent(&t)); err != nil {
			return Ticket{}, err
		}
	}
	return t, nil
}

// nextNumber takes category cat's next number of the business day. A refusal (range or
// cap) is an error, and the write rolls the number back with the rest.
//
// The number comes from queue_counters in the write's own transaction, so it is as safe
// as before; what the queue remembers (counters) only saves reading it: the update is
// made only if the row still holds the number remembered, else the row is read and
// bumped in one statement as it always was. (That statement's RETURNING costs SQLite a
// temporary table each time: half again the plain update.)
func (q *Queue) nextNumber(ctx context.Context, tx *store.Tx, cat *Category, date string) (int, error) {
	if c, ok := q.counter(cat.Code, date); ok {
		res, err := tx.ExecContext(ctx, `UPDATE queue_counters SET last_number = ? WHERE category = ? AND business_date = ?
			AND last_number = ?`, c+1, cat.Code, date, c)
		if err != nil {
			return 0, err
		}
		if changed, err := res.RowsAffected(); err != nil {
			return 0, err
		} else if changed == 1 {
			q.numbered = append(q.numbered, counter{cat.Code, date, c + 1})
			return c + 1, checkNumber(cat, c+1, date)
		}
	}
	var n int
	err := tx.QueryRowContext(ctx, `INSERT INTO queue_counters(category, business_date, last_number) VALUES(?, ?, ?)
		ON CONFLICT(category, business_date) DO UPDATE SET last_number = last_number + 1 RETURNING last_number`,
		cat.Code, date, cat.RangeFrom).Scan(&n)
	if err != nil {
		return 0, err
	}
	q.numbered = append(q.numbered, counter{cat.Code, date, n})
	return n, checkNumber(cat, n, date)
}

// counter is a category's last number on a business date in queue_counters.
type counter struct {
	category, date string
	last           int
}

// counter is the last number of category on date as the running write or, before it
// numbered any, the last committed one left it, if the queue knows it.
func (q *Queue) counter(category, date string) (int, bool) {
	for i := len(q.numbered) - 1; i >= 0; i-- {
		if c := q.numbered[i]; c.category == category && c.date == date {
			return c.last, true
		}
	}
	c, ok := q.counters[category]
	return c.last, ok && c.date == date
}

func checkNumber(cat *Category, n int, date string) error {
	if n > cat.RangeTo {
		return fmt.Errorf("%w: category %q has used all of %s..%s today (%s)",
			ErrRangeExhausted, cat.Code, formatNumber(cat, cat.RangeFrom), formatNumber(cat, cat.RangeTo), date)
	}
	if cat.DailyCap > 0 && n-cat.RangeFrom >= cat.DailyCap {
		return fmt.Errorf("%w: category %q issued its %d tickets for %s", ErrDailyCap, cat.Code, cat.DailyCap, date)
	}
	return nil
}

// skipIssued moves cat's counter past the highest number of its prefix and range issued on
// date under any category code, and takes the number after it. Numbers of one range have
// one width, so the range is a seek on the (number, business_date) index; only a number
// that was taken already comes here.
func (q *Queue) skipIssued(ctx context.Context, tx *store.Tx, cat *Category, date string) (int, error) {
	first, last := formatNumber(cat, cat.RangeFrom), formatNumber(cat, cat.RangeTo)
	var high sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT MAX(number) FROM queue_tickets WHERE number BETWEEN ? AND ?
		AND length(number) = ? AND business_date = ?`, first, last, len(first), date).Scan(&high)
	if err != nil {
		return 0, err
	}
	n := cat.RangeFrom
	if high.Valid {
		v, err := strconv.Atoi(strings.TrimPrefix(high.String, cat.Prefix))
		if err != nil {
			return 0, fmt.Errorf("queue: number %q of %s: %w", high.String, date, err)
		}
		n = v + 1
	}
	if _, err := tx.ExecContext(ctx, `UPDATE queue_counters SET last_number = ? WHERE category = ? AND business_date = ?`,
		n, cat.Code, date); err != nil {
		return 0, err
	}
	q.numbered = append(q.numbered, counter{cat.Code, date, n})
	return n, checkNumber(cat, n, date)
}

// formatNumber is the prefix and three digits, four when the range goes past 999, so
// every number of a category has the same width on the display.
func formatNumber(cat *Category, n int) string {
	if cat.RangeTo > 999 {
		return fmt.Sprintf("%s%04d", cat.Prefix, n)
	}
	return fmt.Sprintf("%s%03d", cat.Prefix, n)
}

// idHash reports whether s is an ID hash as idnum.Hash makes it: 64 lowercase hex digits.
func idHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// code reports whether s is an identifier from another system: 1 to max printable ASCII
// characters without spaces (UPLINK.md gives appointment ids no format), so no free text
// (a name, a sentence) gets in.
func code(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// reasonCode reports whether s is a reason as the queue's events carry it: snake_case, at
// most 64 bytes (print_failed, citizen_left).
func reasonCode(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}

// maskedName accepts "" or a short name with at least one * and no digits: whatever a
// client sends, a full name or an ID number cannot be stored as the display name.
func maskedName(s string) bool {
	if s == "" {
		return true
	}
	if utf8.RuneCountInString(s) > 8 || !strings.Contains(s, "*") {
		return false
	}
	for _, r := range s {
		if unicode.IsDigit(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}
