// Package barcode reads serial (USB CDC or RS-232) barcode and QR scanners.
//
// Facts this package is built on (docs/DEVICES.md section 4):
//
//   - In USB CDC/serial mode a scanner appears as /dev/ttyACM* (or /dev/ttyUSB* behind a
//     converter) and sends each code followed by its configured suffix, typically CR,
//     sometimes CR LF; some are set to send none. Framer accepts CR, LF or CRLF and falls
//     back to an inter-byte gap. USB HID keyboard mode is not handled here: it arrives as
//     key events, needs focus or an evdev grab and depends on the keyboard layout.
//   - The gap is checked on read timeouts. tarm/serial's timeout is VTIME, in tenths of a
//     second, so it is at least 100 ms: an unterminated code ends at the first timeout
//     after its last byte, not after Framer.Gap (50 ms by default).
//   - Codes are checked: at most MaxLen bytes (default 512; an over-long code is dropped up
//     to its terminator and reported once), valid UTF-8, no C0/C1 control characters (this
//     also rejects the GS separator of GS1 codes). Rejections are logged by length and
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
//   - Not handled: Zebra DECODE_DATA packets and ACK/NAK handshaking (the scanner must be
//     set to send plain data), and replies to Newland/Honeywell configuration commands,
//     which a scanner may echo into the data stream (they end with ACK 06 or ";" ETX and
//     would be rejected as control characters).
//
// The simulator peer is in barcodesim.
package barcode
