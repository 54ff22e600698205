// Package queue is the hall's queue engine: numbering, calling, transfers, multi-step service, estimates and statistics, stored in the node's SQLite file with an outbox event per change.
//
// # Transactions
//
// Every operation is one store.DB.Write transaction that changes the ticket rows and appends
// its events to the outbox stream "queue" (UPLINK.md), so a power cut keeps both or neither.
// A mutex in Queue serialises operations on top of SQLite's single writer: deciding who is
// next and calling them is one step. Reads (Estimate, Stats, Ticket) use the read-only pool.
//
// The Queue also keeps copies of a few things in memory, so that an operation writes and
// reads fewer pages: the waiting counts per category and class (waiting.go), the open
// tickets of each person and appointment for the duplicate check (holders.go), the last
// numbers and the recent service times (issue.go, estimate.go). The database stays the
// source: each copy is read from it when first needed, changed only once a write has
// committed, and read again after a COMMIT that failed or when another connection has
// committed (PRAGMA data_version, checked at the start of every write). Reads between two
// writes of this Queue do not notice another process's writes; kioskd is the only writer.
//
// # Numbering
//
// Numbers run per category per business day, the date in the hall's zone (Config.Location,
// default Asia/Shanghai). The last number is kept in queue_counters keyed by (category,
// date), never derived from counting tickets, so a number is never issued twice on one day
// and a new date starts at RangeFrom again, also when the node was off over midnight. A
// number is the prefix and three digits ("A023"), four if the range goes past 999. When the
// range is used up Issue fails with ErrRangeExhausted; past DailyCap with ErrDailyCap;
// outside Open..Close (hall-local, Close exclusive) with ErrClosed.
//
// # Calling order
//
// CallNext(window) considers the waiting tickets of the categories the window serves
// (Policy.Categories, or the categories whose Windows name it) and takes:
//
//  1. if LongWait > 0 and anyone has waited at least LongWait: the longest-waiting of them,
//     whatever their priority or category weight;
//  2. else, if the window has Policy.Weights: the category chosen by smooth weighted round
//     robin among weighted categories with someone waiting (zero-weight categories only
//     when no weighted one has anyone);
//  3. within that, by class: transferred to the front, then appointment, then green channel
//     (绿色通道), then normal;
//  4. then by queue time (longest wait first), then by issue order.
//
// Queue time is the issue time, or for a transferred ticket the transfer time (position
// "end" or "front") or the issue time again (position "original", and the next step of a
// multi-step service, so the citizen does not queue from the end again).
//
// # Ticket states
//
//	waiting --CallNext/CallTicket--> called --Start--> serving --Finish(served)--> finished
//	called --Recall--> called (call_count+1; after MaxRecalls recalls: finished no_show)
//	called --Finish(no_show)--> finished;  called|serving --Finish(cancelled)--> finished
//	called|serving --Park--> parked --Return--> called (serving if it had started)
//	called|serving --Transfer / Finish(served, next)--> waiting (other category, same number)
//	any open --Cancel--> finished cancelled;  any open --HallReset--> finished reset
//
// Any other move fails with a typed error (ErrWrongState, ErrNoTicket, ErrWindowBusy,
// ErrNotServed, ...) and changes nothing. A window holds at most one called or serving ticket,
// enforced by a unique index. Each period is timed: waiting, called-to-start, serving and
// parked totals are kept on the ticket and sent in ticket.finished (wait_s, serve_s, and the
// extra called_to_start_s, parked_s).
//
// # Events
//
// Issue: ticket.issued, and appointment.checked_in for an appointment (none when Issue
// returns an Existing ticket). CallNext, CallTicket: ticket.called. Recall: ticket.recalled,
// or ticket.finished (no_show) past the limit. Transfer: ticket.transferred (extra:
// position). Finish: ticket.finished; with a next step instead ticket.transferred with extra
// reason "next_step" and serve_s, because the ticket is not finished. Cancel, HallReset:
// ticket.finished per ticket. Start, Park and Return have no event type in uplink v1 and
// emit none; their times arrive with ticket.finished.
//
// HallReset does not restart numbering: numbers never repeat within a day, so tickets
// issued after a midday reset continue from the last number.
package queue
