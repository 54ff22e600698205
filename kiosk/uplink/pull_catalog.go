package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// Catalog is the platform's service catalogue (事项清单) with each item's guide (办事指南).
type Catalog struct {
	Version string        `json:"version"`
	Items   []CatalogItem `json:"items"`
}

// CatalogItem is one service item. Code is opaque (GB/T 39554.1 or the city's own).
type CatalogItem struct {
	Code              string            `json:"code"`
	Name              string            `json:"name"`
	Department        string            `json:"department"`
	Category          string            `json:"category"`       // the platform's grouping of items
	QueueCategory     string            `json:"queue_category"` // the hall's queue category to take a ticket in
	LegalBasis        CatalogText       `json:"legal_basis"`
	Conditions        CatalogText       `json:"conditions"`
	Materials         []CatalogMaterial `json:"materials"`
	Steps             CatalogText       `json:"steps"`
	TimeLimitWorkdays int               `json:"time_limit_workdays"`
	Fee               CatalogFee        `json:"fee"`
	OnlineApply       bool              `json:"online_apply"`
	PickupAtKiosk     bool              `json:"pickup_at_kiosk"`
}

// CatalogMaterial is one material an application needs.
type CatalogMaterial struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	Copies   int    `json:"copies"`
	Note     string `json:"note"`
}

// CatalogText is a text the contract leaves open between one string and a list of
// paragraphs (conditions, steps, legal basis): both decode, to a list.
type CatalogText []string

// UnmarshalJSON accepts a string, a list of strings, or null.
func (t *CatalogText) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = nil
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = nil
		if s != "" {
			*t = CatalogText{s}
		}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return &json.UnmarshalTypeError{Value: "neither a string nor a list of strings", Type: reflect.TypeFor[CatalogText]()}
	}
	*t = l
	return nil
}

// String joins the paragraphs with newlines.
func (t CatalogText) String() string { return strings.Join(t, "\n") }

// CatalogFee is the fee as the hall shows it ("免费", "20元"). A bare number is read as yuan.
type CatalogFee string

// UnmarshalJSON accepts a string, a number (yuan) or null (ParseCatalog refuses a null
// fee: an item's fee is never "no text").
func (f *CatalogFee) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = CatalogFee(s)
		return nil
	}
	var n float64
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if err := json.Unmarshal(b, &n); err != nil || n < 0 {
		return &json.UnmarshalTypeError{Value: "neither a string nor a non-negative number of yuan", Type: reflect.TypeFor[CatalogFee]()}
	}
	if n == 0 {
		*f = "免费"
	} else {
		*f = CatalogFee(strconv.FormatFloat(n, 'f', -1, 64) + "元")
	}
	return nil
}

// ErrNoCatalog is asked for before the first catalogue arrived.
var ErrNoCatalog = errors.New("uplink: no catalogue yet: the node has not reached the platform since it was enrolled")

// ParseCatalog decodes and validates a catalogue. Fields the contract does not name are
// ignored (the platform may add some); a missing or wrong-typed field it names is an error.
// UPLINK.md marks none of the catalogue's fields optional (where it means optional it
// says so, as for id_hash), so every field it names must be present, spelt as it spells
// it, and not null: a missing online_apply must not read as false, nor a missing
// time_limit_workdays as 0 (an item done on the spot). Only the texts legal_basis,
// conditions and steps may be null, meaning no text (see CatalogText). Empty values are
// legal where they were before: a text, a department, a category, a queue_category, a
// note or a fee may be "", copies and time_limit_workdays may be 0.
func ParseCatalog(data []byte) (Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return Catalog{}, fmt.Errorf("catalogue is not the contract's shape: %w", err)
	}
	if dec.More() {
		return Catalog{}, errors.New("catalogue is not the contract's shape: data after the JSON value")
	}
	var raw catalogRaw
	if err := json.Unmarshal(data, &raw); err != nil {
		// The decode above succeeded, so this cannot fail on a shape it accepted.
		return Catalog{}, fmt.Errorf("catalogue is not the contract's shape: %w", err)
	}
	var errs []error
	if strings.TrimSpace(c.Version) == "" {
		errs = append(errs, errors.New("version is empty"))
	}
	if len(c.Items) == 0 {
		errs = append(errs, errors.New("items is empty: a catalogue without items would hide every service guide"))
	}
	seen := map[string]int{}
	for i, it := range c.Items {
		f := fmt.Sprintf("items[%d]", i)
		if strings.TrimSpace(it.Code) == "" {
			errs = append(errs, fmt.Errorf("%s: code is empty", f))
		} else if j, dup := seen[it.Code]; dup {
			errs = append(errs, fmt.Errorf("%s: code %q is also items[%d]'s", f, it.Code, j))
		} else {
			seen[it.Code] = i
		}
		if strings.TrimSpace(it.Name) == "" {
			errs = append(errs, fmt.Errorf("%s (%s): name is empty", f, it.Code))
		}
		var fields map[string]json.RawMessage
		if i < len(raw.Items) {
			fields = raw.Items[i]
		}
		errs = catalogPresent(errs, fmt.Sprintf("%s (%s)", f, it.Code), fields, catalogItemFields)
		if it.TimeLimitWorkdays < 0 {
			errs = append(errs, fmt.Errorf("%s (%s): time_limit_workdays %d is negative", f, it.Code, it.TimeLimitWorkdays))
		}
		for k, m := range it.Materials {
			if strings.TrimSpace(m.Name) == "" || m.Copies < 0 {
				errs = append(errs, fmt.Errorf("%s (%s): materials[%d]: name is empty or copies negative", f, it.Code, k))
			}
			var mf map[string]json.RawMessage
			if i < len(raw.Items) && k < len(raw.Materials[i]) {
				mf = raw.Materials[i][k]
			}
			errs = catalogPresent(errs, fmt.Sprintf("%s (%s): materials[%d]", f, it.Code, k), mf, catalogMaterialFields)
		}
		if len(errs) > 20 {
			errs = append(errs, errors.New("and more"))
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Catalog{}, err
	}
	return c, nil
}

// catalogItemFields and catalogMaterialFields are the fields UPLINK.md names for an item
// and for one of its materials; true where null is allowed (a text with no text).
var (
	catalogItemFields = []catalogField{{"code", false}, {"name", false}, {"department", false},
		{"category", false}, {"queue_category", false}, {"legal_basis", true}, {"conditions", true},
		{"materials", false}, {"steps", true}, {"time_limit_workdays", false}, {"fee", false},
		{"online_apply", false}, {"pickup_at_kiosk", false}}
	catalogMaterialFields = []catalogField{{"name", false}, {"required", false}, {"copies", false}, {"note", false}}
)

type catalogField struct {
	name     string
	nullable bool
}

// catalogRaw is the catalogue's items and their materials as raw fields, to tell a
// missing or null field from a zero one, which decoding into Catalog cannot.
type catalogRaw struct {
	Items     []map[string]json.RawMessage
	Materials [][]map[string]json.RawMessage // per item, its materials
}

func (r *catalogRaw) UnmarshalJSON(b []byte) error {
	var top struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	r.Items = make([]map[string]json.RawMessage, len(top.Items))
	r.Materials = make([][]map[string]json.RawMessage, len(top.Items))
	for i, it := range top.Items {
		if err := json.Unmarshal(it, &r.Items[i]); err != nil {
			return err
		}
		if m, ok := r.Items[i]["materials"]; ok {
			if err := json.Unmarshal(m, &r.Materials[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// catalogPresent adds an error to errs for each of want missing from fields (an object
// decoded from null has none) or null where null is not allowed; where names the object.
func catalogPresent(errs []error, where string, fields map[string]json.RawMessage, want []catalogField) []error {
	for _, f := range want {
		v, ok := fields[f.name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: %s is missing", where, f.name))
		case !f.nullable && bytes.Equal(v, []byte("null")):
			errs = append(errs, fmt.Errorf("%s: %s is null", where, f.name))
		}
	}
	return errs
}

// Item returns the catalogue item with the given code.
func (c Catalog) Item(code string) (CatalogItem, bool) {
	for _, it := range c.Items {
		if it.Code == code {
			return it, true
		}
	}
	return CatalogItem{}, false
}

// PullCatalog fetches the catalogue. A new valid one replaces the stored copy (changed);
// a 304 keeps it and renews its age; a bad one is refused (*RefusedError, health
// uplink.catalog_refused) and the old one stays.
func (p *Puller) PullCatalog(ctx context.Context) (changed bool, err error) {
	p.pullMu[pullCatalog].Lock()
	defer p.pullMu[pullCatalog].Unlock()
	changed, err = p.pullCatalog(ctx)
	p.pullReport(ComponentCatalog, err)
	return changed, err
}

func (p *Puller) pullCatalog(ctx context.Context) (bool, error) {
	r, err := p.pullFresh(ctx, "catalog", "/v1/catalog")
	if r == nil || err != nil {
		return false, err
	}
	c, err := ParseCatalog(r.Body)
	if err != nil {
		return false, &RefusedError{What: "catalog", Err: err}
	}
	etag := r.Header.Get("ETag")
	if err := p.c.DB.Write(ctx, func(tx *store.Tx) error { return pullSave(tx, "catalog", etag, r.Body, p.clk.Now()) }); err != nil {
		return false, fmt.Errorf("uplink: storing the catalogue: %w", err)
	}
	p.catMu.Lock()
	p.cat, p.catETag = c, etag
	p.catMu.Unlock()
	p.log.Info("uplink: new catalogue", "version", c.Version, "items", len(c.Items), "etag", etag)
	return true, nil
}

// Catalog returns the last good catalogue and its age: the time since the platform last
// sent or confirmed it. The UI shows the age when it is stale. Before the first one
// arrives it returns ErrNoCatalog.
func (p *Puller) Catalog(ctx context.Context) (Catalog, time.Duration, error) {
	s, ok, err := p.pullLoad(ctx, "catalog")
	if err != nil {
		return Catalog{}, 0, err
	}
	if !ok {
		return Catalog{}, 0, ErrNoCatalog
	}
	age := max(0, p.clk.Now().Sub(s.Checked))
	p.catMu.Lock()
	defer p.catMu.Unlock()
	if p.cat.Items == nil || p.catETag != s.ETag {
		c, err := ParseCatalog(s.Body)
		if err != nil {
			return Catalog{}, 0, fmt.Errorf("uplink: the stored catalogue no longer parses: %w", err)
		}
		p.cat, p.catETag = c, s.ETag
	}
	return p.cat, age, nil
}
