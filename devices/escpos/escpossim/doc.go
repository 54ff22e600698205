// Package escpossim simulates an ESC/POS ticket printer: it decodes the job stream, answers
// status requests and renders cut tickets as text and PNG.
//
// The decoder understands what escpos.Encoder sends (ESC @, ESC a, GS !, ESC E, ESC !,
// ESC -, ESC d, FS & / FS . with GB18030, FS !, GS ( k QR functions, GS v 0, all forms of
// GS V, DLE EOT, GS r, ESC v) and skips other ESC, GS, FS and DLE commands by their
// lengths in the Epson ESC/POS reference, listing them in Ticket.Unknown. A command whose
// length it does not know loses only its first two bytes. Outside Chinese mode a byte
// above 0x7F is shown as '?', because a real printer would print a code-page glyph.
// Memory is bounded: a ticket keeps at most MaxTicketBytes of content, a command too large
// to keep is dropped as it arrives.
//
// Timing follows DEVICES.md 3.3: DLE EOT is answered on arrival, whatever the state; GS r
// and ESC v answer in turn, after the data before them was printed. With the paper out,
// the cover open or the printer offline nothing is printed: the data, cuts and queued
// requests wait in the receive buffer (Config.Buffer) and run when the fault clears, so a
// job cut short by the paper prints its rest once paper is loaded, as on a printer nobody
// told to clear its buffer. A full buffer takes no more bytes: the host's writes block.
package escpossim
