// Package escpos prints queue tickets on ESC/POS thermal printers and reads their status.
//
// The codec (encode.go, ticket.go, status.go) is pure: values in, bytes out, and back for
// status. The driver (driver.go) runs it over a devices.Port; escpossim is its simulator
// peer. The facts below are from /work/shared/docs/DEVICES.md section 3, which names the
// sources of each; [U] marks what no second source confirmed.
//
// # Commands the encoder sends
//
//	ESC @            1B 40              initialise (python-escpos HW_INIT)
//	ESC a n          1B 61 n            align 0 left, 1 centre, 2 right
//	GS ! n           1D 21 n            size: high nibble width-1, low nibble height-1 (0x33 = 4x4)
//	ESC E n          1B 45 n            bold on/off
//	ESC d n          1B 64 n            print and feed n lines
//	FS & / FS .      1C 26 / 1C 2E      Chinese mode on/off around GB18030 text (escpos-php textChinese)
//	GS ( k ...       1D 28 6B pL pH 31 fn ...   QR: model 2 (41 32 00), module (43 n),
//	                                    EC level (45 30+l), store (50 30 data; pL pH = len+3),
//	                                    print (51 30) (python-escpos qr(native=True))
//	GS v 0 m xL xH yL yH d...           raster image, m = 0, x in bytes (python-escpos)
//	GS V 66 n        1D 56 42 03        feed to the cutter plus n motion units, partial cut
//	DLE EOT n        10 04 n            real-time status request
//
// # Text
//
// Chinese printer fonts cover GBK, the two-byte part of GB18030; four-byte sequences
// usually print as garbage [U]. Encoder.Text therefore sends a visible '?' for anything the
// font cannot show: characters with four-byte codes (CJK Extension B such as U+20000,
// emoji), private-use characters, control characters other than '\n', invalid UTF-8.
// Font A is 12x24 dots and a Chinese character is 24x24, so DisplayWidth counts such a
// character as two columns; a 58 mm roll prints 384 dots (32 columns), an 80 mm roll 576
// (48 columns). Sizes from GS ! multiply both.
//
// # Status
//
// DLE EOT n (n = 1 printer, 2 offline cause, 3 error cause, 4 roll paper) is answered at
// once, even offline, with one byte whose bits 1 and 4 are set and bits 0 and 7 clear:
// (b & 0x93) == 0x12 tells a status byte from noise. DLE EOT 4 = 0x12 paper OK, 0x1E near
// end, 0x72 out (python-escpos RT_MASK_*); an out-of-paper printer answers DLE EOT 1/2/4
// with 1A 32 7E (hardless-http-dialects). The queued requests GS r 1 and ESC v answer only
// after the data before them is printed, which makes GS r 1 a "job done" barrier; their
// bits differ between Epson (near end 0x03, end 0x0C) and Chinese clones (00 paper,
// 0F none) [U], so both are read as paper end when 0x0C is set.
//
// Those bits also tell the two kinds of answer apart: a DLE EOT answer always has bit 4
// set, a GS r 1 answer never (all its documented values are 00-0F). A job waiting for its
// GS r 1 answer therefore sends DLE EOT 1-4 every Config.JobPoll and sorts what comes
// back by bit 4: a printer out of paper holds the job and leaves GS r 1 unanswered but
// answers DLE EOT, so the job fails and the health shows the cause within a poll. Input
// is drained before every request, and a port whose answer timed out is dropped and
// reopened, so a late answer is never read as the answer to a later request.
//
// DEVICES.md names no command that clears a printer's receive buffer, so none is sent
// after a failed job: the printer keeps what it was sent and prints it once the fault
// clears (paper loaded, cover closed). A job given up while its GS r 1 was unanswered
// leaves that answer to come late: the next job first sends a GS r 1 of its own and reads
// every answer up to it, so an old answer cannot confirm a new job. A job cut off by a
// write timeout sent no GS r 1, but it may leave the printer inside a command, which
// swallows the start of the next job while that job is still confirmed by its own GS r 1:
// a risk this driver cannot see (the port is dropped, which resets nothing in the printer).
//
// # Errata and unverified points
//
//   - A 10 04 n inside raster or QR data may be taken for a real-time request by some
//     printers [U: Epson note]; nothing in a ticket job contains it except by chance in
//     image data.
//   - GS V 66 n: Epson defines n in vertical motion units; clones differ [U].
//   - The Go libraries hennedo/escpos and kenshaw/escpos have bugs noted in DEVICES.md 3.4
//     and are not on the module proxy; this package is an in-house encoder with golden
//     files (testdata/*.hex, regenerated with go test -update).
package escpos
