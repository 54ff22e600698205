// Package barcode reads serial (USB CDC or RS-232) barcode and QR scanners.
//
// Facts this package is built on (docs/DEVICES.md section 4):
//
//   - In USB CDC/serial mode a scanner appears as /dev/ttyACM* (or /dev/ttyUSB* behind a
//     converter) and sends each code followed by its configured suffix, typically CR,
//     sometimes CR LF; some are set to send none. Framer ends a code only at the suffix
//     the profile names (quirks.suffix: cr, lf or crlf; CR by default) or at an
//     inter-byte gap, because a QR code may hold line breaks (a vCard is several lines):
//     ending at any CR or LF made one scan several codes. Line breaks inside a code are
//     kept; those at its start and end are dropped, so a scanner sending CR LF where the
//     profile says CR still works. A code that holds the suffix itself is cut there.
//     USB HID keyboard mode is not handled here: it arrives as key events, needs focus or
//     an evdev grab and depends on the keyboard layout.
//   - The gap is checked on read timeouts. tarm/serial's timeout is VTIME, in tenths of a
//     second, so it is at least 100 ms: an unterminated code ends at the first timeout
//     after its last byte, not after Framer.Gap (50 ms by default).
//   - Codes are checked: at most MaxLen bytes (default 512; an over-long code is dropped up
//     to its terminator and reported once), valid UTF-8, no C0/C1 control characters (this
//     also rejects the GS separator of GS1 codes; CR and LF inside a code are allowed). Rejections are logged by length and
//     reason only, rate-limited, and counted in Stats: a code may carry personal data.
//   - AIM symbology identifiers ("]Q1" QR, "]C0" Code 128, "]E0" EAN-13, ISO/IEC 15424)
//     are stripped and reported only with StripAIM, since a code may itself start with "]".
//   - Host trigger commands: Honeywell SYN T CR / SYN U CR (16 54 0D / 16 55 0D; the
//     scanner must be in a trigger mode that accepts serial triggers); Newland
//     "~<SOH>0000#SCNTRG1;<ETX>" / "...#SCNTRG0;<ETX>" (assembled from the manual's syntax,
//     unconfirmed on a device); Zebra SSI START_DECODE (E4) / STOP_DECODE (E5) packets with
//     a 16-bit two's-complement checksum (SSIPacket). A generic engine has no trigger.
//     Sources: enioka_scan (Honeywell commands, SsiMonoPacket.java), Newland NLS-HR52
//     manual pp. 35 and 234.
//   - Replies to those commands arrive on the line the codes come on. ReplyFilter takes
//     them out before the Framer, which would otherwise join a reply to the next code and
//     reject both: a Newland reply STX SOH "0000", the echoed command, a status (ACK 06,
//     NAK 15, ENQ 05), ";" ETX (02 01 ... 06 3B 03); a Zebra SSI CMD_ACK (D0) or CMD_NAK
//     (D1) packet whose checksum is valid. Every reply starts with a control byte no code
//     holds, so no code is mistaken for one. Replies are counted in Stats; a refusal is
//     logged.
//   - Not handled: Zebra DECODE_DATA packets and ACK/NAK handshaking (the scanner must be
//     set to send plain data), and Honeywell menu-command echoes (no command this package
//     sends has one).
//
// The simulator peer is in barcodesim.
package barcode
