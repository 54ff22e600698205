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
package escpossim
