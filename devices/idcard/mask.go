package idcard

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

// Every way a Card can be printed is masked, whether it is passed as a value or a pointer,
// alone or inside an event, a slice or another struct's exported field (fmt does not call
// the methods of unexported fields: keep a Card there out of logs): the methods below have value
// receivers, so a Card value has them as well as a *Card, and fmt and encoding/json find
// them on nested fields. slog's text handler prints nested values with fmt and its JSON
// handler with encoding/json, so Format and MarshalJSON cover those paths too.
var (
	_ slog.LogValuer = Card{}
	_ fmt.Formatter  = Card{}
	_ fmt.Stringer   = Card{}
	_ json.Marshaler = Card{}
)

// maskedCard is the masked form of a card in logs and JSON.
type maskedCard struct {
	Type    CardType `json:"type"`
	Name    string   `json:"name"`
	ID      string   `json:"id"`
	IDValid bool     `json:"id_valid"`
}

func (c Card) masked() maskedCard {
	return maskedCard{Type: c.Type, Name: idnum.MaskName(c.displayName()), ID: idnum.MaskID(c.IDNumber), IDValid: c.IDValid()}
}

// LogValue logs the card masked: type, masked name and number, and whether the number
// passes its check. Photo, address and dates never reach a log.
func (c Card) LogValue() slog.Value {
	m := c.masked()
	return slog.GroupValue(
		slog.String("type", string(m.Type)),
		slog.String("name", m.Name),
		slog.String("id", m.ID),
		slog.Bool("id_valid", m.IDValid),
	)
}

// MarshalJSON encodes the card masked, as LogValue logs it. Card is never sent anywhere
// as JSON in clear; code that must pass its fields on copies them explicitly.
func (c Card) MarshalJSON() ([]byte, error) { return json.Marshal(c.masked()) }

// String returns the card masked, e.g. "resident 张* 110105********002X".
func (c Card) String() string {
	m := c.masked()
	return fmt.Sprintf("%s %s %s", m.Type, m.Name, m.ID)
}

// GoString masks %#v as well.
func (c Card) GoString() string { return "idcard.Card{" + c.String() + "}" }

// Format prints the masked String for every verb, and GoString for %#v, so that no verb
// (%d, %x, %+v...) falls through to fmt's field-by-field printing of the struct. Width,
// precision and flags apply to the masked text for %v, %s and %q.
func (c Card) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, c.GoString())
	case verb == 'v', verb == 's', verb == 'q':
		fmt.Fprintf(f, fmt.FormatString(f, verb), c.String())
	default:
		io.WriteString(f, c.String())
	}
}
