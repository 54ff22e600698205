// Package idcard reads second-generation Chinese ID cards through a GA 467 (SAM_V) reader.
//
// The codec (frame.go, status.go, card.go, nation.go, sam.go) is pure: bytes in, values
// out, no I/O. The driver (driver.go) runs it over a serial port; idcardsim is its
// simulator peer. The facts below are from /work/shared/docs/DEVICES.md section 1, which
// names the sources of each; [U] marks what no second source confirmed.
//
// # Link and frames
//
// UART 8N1, no flow control, 115200 baud by default. Both directions use
//
//	AA AA AA 96 69 | Len (big-endian) | CMD Para Data... | CHK     host -> SAM
//	AA AA AA 96 69 | Len (big-endian) | SW1 SW2 SW3 Data... | CHK  SAM -> host
//
// Len counts the bytes after itself, CHK included, so a frame is 7 + Len bytes. CHK is the
// XOR of every byte after the preamble (Len included). Sources: eastcoms SAM_V protocol
// sheet, HslCommunication SAMSerial.cs, BearPi IDReader.c; every frame in the tests was
// recomputed. A capture in the wild shows junk before the preamble (AA 00 AA AA 96 69),
// so parsers scan for it.
//
// # Commands and status
//
// 10 FF reset SAM, 11 FF SAM status, 12 FF SAM id, 20 01 find card, 20 02 select card,
// 30 01 read text and photo, 30 03 read the newest appended address, 30 10 read text,
// photo and fingerprint, 61 FF n set the largest RF frame to n bytes (the only command
// with a data byte; hev-dbus-object-idcard-reader.c sends 61 FF 50). Only SW3 tells the
// outcome (SW1 and SW2 may carry the card's own status): find card succeeds with 9F (card
// found), every other command with 90; 91 means no such item; the failures are the Err*
// status sentinels. A normal read is find (expect 9F), select (90), read (90); poll no
// faster than every 300 ms; after a successful read the same card is not found again
// until it is removed. 60 (SAM self-test failed, no command accepted) and 66 (SAM not
// authorised) make the reader unusable: the driver reports idcard.sam_fault until the
// SAM answers 11 FF with 90 again.
//
// # Card data
//
// A 30 01 answer carries text length 0x0100, photo length 0x0400, a 256-byte UCS-2LE
// text block and a 1024-byte WLT photo: 1295 bytes on the wire. A 30 10 answer adds a
// third length and a fingerprint block of 1024, 512 or 0 bytes (2321, 1809 or 1297 bytes
// on the wire). The character at text offset 248 gives the card type: blank for the
// resident card, 'I' for the 2017 foreign permanent resident card, 'J' for the
// Hong Kong/Macau/Taiwan residence permit (DKCloudID IDCardData.java). Field layouts are
// in card.go. The photo decodes to 102x126 pixels only through vendor binaries; no open
// decoder exists, so it is kept as opaque bytes.
//
// # Errata and unverified points
//
//   - The 2023 foreign permanent resident card reportedly uses flag 'Y' [U]; its layout
//     is not known here, so DecodeText rejects it with ErrUnsupportedCard.
//   - The 12 FF answer is 16 data bytes [U]; HslCommunication formats it with signed
//     integers, FormatSAMID with unsigned ones.
//   - The 30 03 answer's size is not documented; the simulator sends 70 bytes [U].
//   - One vendor (BearPi "IDM20") resets with 01 FF rather than 10 FF; some Java samples
//     compute Len with signed bytes or with an operator-precedence bug. Not followed.
//   - 0xFF as SW3 appears only in libsamv.h as its own communication fault [U].
//
// Card holds sensitive personal information. Its LogValue, String, Format and
// MarshalJSON mask it (internal/idnum), with value receivers so that a Card value or a
// Card nested in an event is masked too; Wipe it when the session ends. A nil *Card
// prints as <nil> through fmt and encoding/json, but slog, which cannot call a value
// method through a nil pointer, logs it as a "LogValue panicked" note.
package idcard
