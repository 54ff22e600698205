package kiosk

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
	"github.com/hallkiosk/hallkiosk/ui"
)

// Input is one thing that happened at the terminal: a UI event or a device event.
type Input interface{ input() }

// UIEvent is a touch on the screen.
type UIEvent struct{ ui.Event }

// CardPlaced is an ID card read by the reader. The session hashes and masks it at once and
// keeps neither field; its String and LogValue are masked.
type CardPlaced struct{ IDNumber, Name string }

// CardRemoved is the card taken off the reader.
type CardRemoved struct{}

// CardFailed is a card that was placed but could not be read.
type CardFailed struct{}

// CodeScanned is a barcode or QR code read by the scanner.
type CodeScanned struct{ Code string }

// PersonNear and PersonLeft come from the presence sensor.
type (
	PersonNear struct{}
	PersonLeft struct{}
)

// Tick makes the session look at the clock (timeouts); Run sends it itself.
type Tick struct{}

func (UIEvent) input()     {}
func (CardPlaced) input()  {}
func (CardRemoved) input() {}
func (CardFailed) input()  {}
func (CodeScanned) input() {}
func (PersonNear) input()  {}
func (PersonLeft) input()  {}
func (Tick) input()        {}

func (c CardPlaced) String() string {
	return fmt.Sprintf("CardPlaced{%s %s}", idnum.MaskID(c.IDNumber), idnum.MaskName(c.Name))
}
func (c CardPlaced) GoString() string { return c.String() }

// LogValue masks the card.
func (c CardPlaced) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", idnum.MaskID(c.IDNumber)), slog.String("name", idnum.MaskName(c.Name)))
}

// card is what a session keeps of an ID card: masked forms and the keyed hash.
type card struct {
	hash       string
	maskedID   string
	maskedName string
	green      bool // old enough for the green channel
}

// LogValue never shows the hash either: it links a person across sessions.
func (c *card) LogValue() slog.Value { return slog.StringValue(c.maskedID) }

// ageOn is the age on day of the holder of an 18-digit ID number (birth date in digits
// 7-14), or -1 when the number carries no readable date.
func ageOn(id string, day time.Time) int {
	if len(id) != 18 {
		return -1
	}
	b, err := time.Parse("20060102", id[6:14])
	if err != nil || b.After(day) {
		return -1
	}
	age := day.Year() - b.Year()
	if day.Month() < b.Month() || (day.Month() == b.Month() && day.Day() < b.Day()) {
		age--
	}
	return age
}
