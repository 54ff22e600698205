package idcard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hallkiosk/hallkiosk/devices/idcard"
	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

// secrets are the values of c that no rendering of it may show.
func secrets(c *idcard.Card) []string {
	var s []string
	for _, v := range []string{c.IDNumber, c.Name, c.NameEN, c.Address, c.AppendedAddress, c.Issuer, c.PassNumber,
		strings.ReplaceAll(c.Birth, "-", ""), c.Birth} {
		if v != "" {
			s = append(s, v)
		}
	}
	return s
}

// checkMasked fails when out shows a secret of c or lacks its masked number.
func checkMasked(t *testing.T, name, how, out string, c *idcard.Card) {
	t.Helper()
	for _, secret := range secrets(c) {
		if strings.Contains(out, secret) {
			t.Errorf("%s: %s output %q contains %q", name, how, out, secret)
		}
	}
	if ids := idnum.FindIDs(out); len(ids) != 0 {
		t.Errorf("%s: %s output holds %d full ID numbers", name, how, len(ids))
	}
	if !strings.Contains(out, idnum.MaskID(c.IDNumber)) {
		t.Errorf("%s: %s output %q lacks the masked number %q", name, how, out, idnum.MaskID(c.IDNumber))
	}
}

func TestMaskedOutput(t *testing.T) {
	var text bytes.Buffer
	jsonLog := logs.Logger()
	textLog := slog.New(slog.NewTextHandler(&text, nil))
	for name, c := range allCards() {
		c.AppendedAddress = "广东省深圳市南山区科技园南区8栋"
		jsonLog.Info("card read", "card", c)
		textLog.Info("card read", "card", c)
		outs := map[string]string{
			"String": c.String(), "%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c),
			"%#v": fmt.Sprintf("%#v", c), "%s": fmt.Sprintf("%s", c), "LogValue": c.LogValue().String(),
		}
		for how, out := range outs {
			checkMasked(t, name, how, out, c)
		}
	}
	out := text.String()
	if ids := idnum.FindIDs(out); len(ids) != 0 {
		t.Errorf("text log holds %d full ID numbers", len(ids))
	}
	for _, want := range []string{"card.type=resident", "card.name=张*", "card.id=110105********002X", "card.id_valid=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("text log lacks %q:\n%s", want, out)
		}
	}
}

// A card is masked however it is printed: as a value, behind a pointer, nested in an
// event or another struct, through slog's JSON and text handlers (which print nested
// values with encoding/json and fmt), fmt with any verb, and encoding/json.
func TestMaskedEverywhere(t *testing.T) {
	type wrapper struct {
		Who  string
		Card idcard.Card
	}
	for name, c := range allCards() {
		c.AppendedAddress = "广东省深圳市南山区科技园南区8栋"
		outs := map[string]string{}
		for hname, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
			"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		} {
			for how, attr := range map[string]slog.Attr{
				"pointer":          slog.Any("card", c),
				"value":            slog.Any("card", *c),
				"event":            slog.Any("ev", idcard.CardPresented{Card: c}),
				"event as Event":   slog.Any("ev", idcard.Event(idcard.CardPresented{Card: c})),
				"struct with card": slog.Any("w", wrapper{"x", *c}),
				"slice":            slog.Any("cards", []*idcard.Card{c}),
				"value slice":      slog.Any("cards", []idcard.Card{*c}),
				"map":              slog.Any("m", map[string]idcard.Card{"k": *c}),
				"group":            slog.Group("g", "card", *c),
			} {
				var b bytes.Buffer
				slog.New(newHandler(&b)).LogAttrs(t.Context(), slog.LevelInfo, "event", attr)
				outs["slog "+hname+" "+how] = b.String()
			}
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%-60v"} {
			outs["fmt "+verb+" pointer"] = fmt.Sprintf(verb, c)
			outs["fmt "+verb+" value"] = fmt.Sprintf(verb, *c)
			outs["fmt "+verb+" event"] = fmt.Sprintf(verb, idcard.CardPresented{Card: c})
			outs["fmt "+verb+" struct"] = fmt.Sprintf(verb, wrapper{"x", *c})
			outs["fmt "+verb+" slice"] = fmt.Sprintf(verb, []idcard.Card{*c})
		}
		outs["fmt Sprint value"] = fmt.Sprint(*c)
		outs["fmt Sprintln value"] = fmt.Sprintln(*c)
		for how, v := range map[string]any{"pointer": c, "value": *c, "event": idcard.CardPresented{Card: c},
			"struct": wrapper{"x", *c}, "slice": []idcard.Card{*c}} {
			b, err := json.Marshal(v)
			if err != nil {
				t.Errorf("%s: json.Marshal(%s) = %v", name, how, err)
			}
			outs["json "+how] = string(b)
		}
		for how, out := range outs {
			checkMasked(t, name, how, out, c)
		}
		// The JSON form is the masked log form, usable by anyone that reads logs.
		var got map[string]any
		if err := json.Unmarshal([]byte(outs["json value"]), &got); err != nil {
			t.Fatalf("%s: masked JSON does not decode: %v", name, err)
		}
		want := map[string]any{"type": string(c.Type), "name": idnum.MaskName(c.Name), "id": idnum.MaskID(c.IDNumber), "id_valid": true}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: json.Marshal = %v; want %v", name, got, want)
		}
	}
}

// A nil card prints as nil and panics nowhere.
func TestMaskedNilCard(t *testing.T) {
	var nilCard *idcard.Card
	if s := fmt.Sprint(nilCard); s != "<nil>" {
		t.Errorf("fmt.Sprint((*Card)(nil)) = %q; want <nil>", s)
	}
	if b, err := json.Marshal(nilCard); err != nil || string(b) != "null" {
		t.Errorf("json.Marshal((*Card)(nil)) = %s, %v; want null", b, err)
	}
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("nil card", "card", nilCard, "ev", idcard.CardPresented{})
	slog.New(slog.NewJSONHandler(&b, nil)).Info("nil card", "card", nilCard, "ev", idcard.CardPresented{})
}
