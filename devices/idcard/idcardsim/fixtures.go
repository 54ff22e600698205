package idcardsim

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"

	"github.com/hallkiosk/hallkiosk/devices/idcard"
)

// defaultCards are fictitious people, one of each card type at least.
//
//go:embed cards.json
var defaultCards []byte

// fixture is a card as written in a fixture file. The photo is not a real WLT image
// (no open decoder exists); PhotoSeed makes 1024 repeatable opaque bytes.
type fixture struct {
	Type            idcard.CardType `json:"type"`
	Name            string          `json:"name"`
	NameEN          string          `json:"name_en,omitempty"`
	Sex             string          `json:"sex"`
	Nation          string          `json:"nation"`
	Birth           string          `json:"birth"`
	Address         string          `json:"address,omitempty"`
	IDNumber        string          `json:"id_number"`
	Issuer          string          `json:"issuer"`
	ValidFrom       string          `json:"valid_from"`
	ValidTo         string          `json:"valid_to"`
	PassNumber      string          `json:"pass_number,omitempty"`
	IssueCount      string          `json:"issue_count,omitempty"`
	CardVersion     string          `json:"card_version,omitempty"`
	AppendedAddress string          `json:"appended_address,omitempty"`
	PhotoSeed       byte            `json:"photo_seed"`
}

// DefaultCards returns the built-in fixture cards.
func DefaultCards() ([]*idcard.Card, error) { return ParseCards(defaultCards) }

// LoadCards reads a fixture file (a JSON array; see cards.json for the fields).
func LoadCards(path string) ([]*idcard.Card, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("idcardsim: %w", err)
	}
	cards, err := ParseCards(b)
	if err != nil {
		return nil, fmt.Errorf("idcardsim: %s: %w", path, err)
	}
	return cards, nil
}

// ParseCards decodes fixture JSON and checks that every card encodes.
func ParseCards(b []byte) ([]*idcard.Card, error) {
	var fs []fixture
	if err := json.Unmarshal(b, &fs); err != nil {
		return nil, fmt.Errorf("idcardsim: fixture: %w", err)
	}
	var cards []*idcard.Card
	for i, f := range fs {
		c := &idcard.Card{Type: f.Type, Name: f.Name, NameEN: f.NameEN, Sex: f.Sex, Nation: f.Nation,
			Birth: f.Birth, Address: f.Address, IDNumber: f.IDNumber, Issuer: f.Issuer,
			ValidFrom: f.ValidFrom, ValidTo: f.ValidTo, PassNumber: f.PassNumber, IssueCount: f.IssueCount,
			CardVersion: f.CardVersion, AppendedAddress: f.AppendedAddress, Photo: make([]byte, 1024)}
		for j := range c.Photo {
			c.Photo[j] = byte(j)*31 + f.PhotoSeed
		}
		if _, err := idcard.EncodeBase(c); err != nil {
			return nil, fmt.Errorf("idcardsim: fixture card %d: %w", i, err)
		}
		cards = append(cards, c)
	}
	if len(cards) == 0 {
		return nil, fmt.Errorf("idcardsim: fixture has no cards")
	}
	return cards, nil
}
