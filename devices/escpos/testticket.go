package escpos

import "time"

// TestTicket is the technician's test ticket: Chinese text, the number A001 and a QR code
// holding HALLKIOSK-TEST, so one print checks the font, the big digits and the QR support.
func TestTicket(hall string, now time.Time) Ticket {
	if hall == "" {
		hall = "Hallkiosk"
	}
	return Ticket{HallName: hall, CategoryName: "打印测试 Printer test", Number: "A001", IssuedAt: now,
		QR: "HALLKIOSK-TEST", Footer: "打印机工作正常 Printer OK"}
}
