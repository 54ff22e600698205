// Package platformsim is the reference central platform of UPLINK.md, with fault injection, for tests and `make run`.
//
// Everything under /v1/ is the contract. Everything under /control/ is for tests and
// technicians on the same machine only: it has no authentication, so whoever serves Handler
// must bind it to loopback (cmd/platformsim listens on 127.0.0.1 by default).
//
// Choices where UPLINK.md is silent:
//   - An enrolment code made for a hall enrols the node in that hall even if the request names
//     another hall (logged as a warning); a code made for hall "" takes the hall of the request.
//     Enrolling a node again with a new code replaces its token.
//   - Events: an invalid event, or one whose type is in Faults.Reject, is "rejected" and not
//     stored, so a re-queued copy is judged afresh; an id already stored is "duplicate" (also
//     within one batch). StreamStats.LastSeq is the highest accepted seq; OutOfOrder counts
//     accepted events whose seq is not above it. Gaps are not counted: a rejected event leaves one.
//   - Faults.WrongShape on the events endpoint stores the batch but answers one result too few,
//     like a proxy that mangles answers; the node must retry and then sees "duplicate".
//     Faults.Garbage stores nothing.
//   - Faults.Latency is real time even with a fake Clock: it delays a real socket.
//   - POST /v1/materials answers 201 both the first time and for a repeated Idempotency-Key
//     (with the same material_id), so a client needs to accept one status only.
//   - Config, catalogue, pickups and appointments carry an ETag (a quoted prefix of the body's
//     sha256, so any change of the data changes it) and answer 304 to a matching If-None-Match.
//   - Expired pickups are not listed. Appointments are generated per day (two for each of the
//     first three queue categories of the node's config, derived from node and date, so stable)
//     plus those added with AddAppointment.
//   - Progress lights: red once past due_at (for a finished case: finished past due_at), yellow
//     on due_at's own hall-local day, green before. ID numbers are indexed by an HMAC under a
//     random platform secret and appear in logs masked only.
//   - Stats.Requests counts /v1/ requests attributed to the node (by path or token), including
//     those answered by a fault; it lives in memory, the stream counters live in SQLite.
//
// Seed data: the catalogue of seed/catalog.json (36 items across 12 departments), a config per
// node, three pickups per node (valid PDFs from CertificatePDF) and four cases, all belonging
// to DemoPeople with id_hash under Config.DeploymentKey (default DemoDeploymentKey).
//
// Faults.Hang holds requests until the faults change, the client gives up or Close is called:
// a test whose clients have no timeout should call Close (or SetFaults) before closing its
// httptest.Server, which waits for running handlers.
package platformsim
