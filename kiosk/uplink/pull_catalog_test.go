package uplink

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/health"
)

const pullGoodCatalog = `{"version": "2026.11.1", "items": [
 {"code": "330100-001", "name": "营业执照变更登记", "department": "市场监管局", "category": "企业", "queue_category": "E",
  "legal_basis": "《市场主体登记管理条例》", "conditions": "已登记的企业",
  "materials": [{"name": "变更登记申请书", "required": true, "copies": 1, "note": ""}],
  "steps": ["申请", "受理", "审核", "发证"], "time_limit_workdays": 3, "fee": "免费",
  "online_apply": true, "pickup_at_kiosk": true},
 {"code": "330100-002", "name": "不动产权证书补发", "department": "自然资源局", "category": "不动产", "queue_category": "B",
  "legal_basis": ["《不动产登记暂行条例》"], "conditions": ["权利人", "证书遗失"], "materials": [],
  "steps": "申请、受理、公告、发证", "time_limit_workdays": 5, "fee": 80, "online_apply": false, "pickup_at_kiosk": false,
  "extra": "the platform may add fields"}]}`

func TestPullCatalog(t *testing.T) {
	f := newPullFake(t)
	r := newPullRig(t, f.srv.URL, nil)
	ctx := context.Background()
	if _, _, err := r.p.Catalog(ctx); !errors.Is(err, ErrNoCatalog) {
		t.Fatalf("Catalog before any pull = %v; want ErrNoCatalog", err)
	}
	f.set("/v1/catalog", pullGoodCatalog)
	if changed, err := r.p.PullCatalog(ctx); !changed || err != nil {
		t.Fatalf("PullCatalog = %v, %v", changed, err)
	}
	c, age, err := r.p.Catalog(ctx)
	if err != nil || c.Version != "2026.11.1" || len(c.Items) != 2 || age != 0 {
		t.Fatalf("Catalog = %+v, %v, %v", c, age, err)
	}
	it, ok := c.Item("330100-002")
	if !ok || it.Fee != "80元" || len(it.Conditions) != 2 || it.Steps.String() != "申请、受理、公告、发证" || it.LegalBasis[0] != "《不动产登记暂行条例》" {
		t.Fatalf("item 2 = %+v", it)
	}
	if it, _ := c.Item("330100-001"); it.Conditions.String() != "已登记的企业" || len(it.Steps) != 4 || !it.PickupAtKiosk || it.Materials[0].Copies != 1 {
		t.Fatalf("item 1 = %+v", it)
	}

	// Age grows while the platform is not asked, and a 304 renews it.
	r.clk.Advance(2 * time.Hour)
	if _, age, _ := r.p.Catalog(ctx); age != 2*time.Hour {
		t.Fatalf("age after 2h = %v", age)
	}
	if changed, err := r.p.PullCatalog(ctx); changed || err != nil || f.count(f.got304, "/v1/catalog") != 1 {
		t.Fatalf("second PullCatalog = %v, %v (304s: %d)", changed, err, f.count(f.got304, "/v1/catalog"))
	}
	if _, age, _ := r.p.Catalog(ctx); age != 0 {
		t.Fatalf("age after a 304 = %v; want 0", age)
	}

	bad := []struct{ name, body, want string }{
		{"not json", `<html>`, "not the contract's shape"},
		{"wrong shape", `{"version": "x", "items": {"code": "a"}}`, "not the contract's shape"},
		{"empty items", `{"version": "x", "items": []}`, "items is empty"},
		{"no version", strings.Replace(pullGoodCatalog, "2026.11.1", "", 1), "version is empty"},
		{"no code", strings.Replace(pullGoodCatalog, "330100-001", "", 1), "code is empty"},
		{"no name", strings.Replace(pullGoodCatalog, "营业执照变更登记", "", 1), "name is empty"},
		{"duplicate code", strings.Replace(pullGoodCatalog, "330100-002", "330100-001", 1), `"330100-001" is also items[0]'s`},
		{"bad fee", strings.Replace(pullGoodCatalog, `"fee": 80`, `"fee": true`, 1), "fee"},
		// Every field UPLINK.md names must be there, even where its zero value is legal.
		{"no department", strings.Replace(pullGoodCatalog, `"department": "市场监管局", `, "", 1), "items[0] (330100-001): department is missing"},
		{"misspelt department", strings.Replace(pullGoodCatalog, `"department": "市场监管局"`, `"Department": "市场监管局"`, 1), "items[0] (330100-001): department is missing"},
		{"no category", strings.Replace(pullGoodCatalog, `"category": "不动产", `, "", 1), "items[1] (330100-002): category is missing"},
		{"no queue_category", strings.Replace(pullGoodCatalog, `"queue_category": "E",`, "", 1), "items[0] (330100-001): queue_category is missing"},
		{"no legal_basis", strings.Replace(pullGoodCatalog, `"legal_basis": "《市场主体登记管理条例》", `, "", 1), "legal_basis is missing"},
		{"no conditions", strings.Replace(pullGoodCatalog, `"conditions": ["权利人", "证书遗失"], `, "", 1), "items[1] (330100-002): conditions is missing"},
		{"no steps", strings.Replace(pullGoodCatalog, `"steps": ["申请", "受理", "审核", "发证"], `, "", 1), "items[0] (330100-001): steps is missing"},
		{"no materials", strings.Replace(pullGoodCatalog, `"materials": [],`, "", 1), "items[1] (330100-002): materials is missing"},
		{"null materials", strings.Replace(pullGoodCatalog, `"materials": [],`, `"materials": null,`, 1), "items[1] (330100-002): materials is null"},
		{"no time limit", strings.Replace(pullGoodCatalog, `"time_limit_workdays": 5, `, "", 1), "items[1] (330100-002): time_limit_workdays is missing"},
		{"null time limit", strings.Replace(pullGoodCatalog, `"time_limit_workdays": 5, `, `"time_limit_workdays": null, `, 1), "time_limit_workdays is null"},
		{"no fee", strings.Replace(pullGoodCatalog, `"fee": 80, `, "", 1), "items[1] (330100-002): fee is missing"},
		{"null fee", strings.Replace(pullGoodCatalog, `"fee": 80`, `"fee": null`, 1), "items[1] (330100-002): fee is null"},
		{"no online_apply", strings.Replace(pullGoodCatalog, `"online_apply": false, `, "", 1), "items[1] (330100-002): online_apply is missing"},
		{"no pickup_at_kiosk", strings.Replace(pullGoodCatalog, `, "pickup_at_kiosk": true`, "", 1), "items[0] (330100-001): pickup_at_kiosk is missing"},
		{"no material required", strings.Replace(pullGoodCatalog, `"required": true, `, "", 1), "items[0] (330100-001): materials[0]: required is missing"},
		{"no material copies", strings.Replace(pullGoodCatalog, `"copies": 1, `, "", 1), "materials[0]: copies is missing"},
		{"no material note", strings.Replace(pullGoodCatalog, `, "note": ""`, "", 1), "materials[0]: note is missing"},
		{"null material", strings.Replace(pullGoodCatalog, `[{"name": "变更登记申请书", "required": true, "copies": 1, "note": ""}]`, `[null]`, 1), "materials[0]: name is empty"},
		{"null item", `{"version": "x", "items": [null]}`, "items[0] (): code is missing"},
	}
	r.clk.Advance(time.Hour)
	for _, tc := range bad {
		f.set("/v1/catalog", tc.body)
		changed, err := r.p.PullCatalog(ctx)
		var ref *RefusedError
		if changed || !errors.As(err, &ref) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: PullCatalog = %v, %v; want refused with %q", tc.name, changed, err, tc.want)
		}
		if st := r.health(t, ComponentCatalog); st.State != health.Degraded || st.Code != "uplink.catalog_refused" {
			t.Errorf("%s: health = %+v", tc.name, st)
		}
		c, age, err := r.p.Catalog(ctx)
		if err != nil || c.Version != "2026.11.1" || age != time.Hour {
			t.Errorf("%s: Catalog after refusal = %v, %v, %v; want the old one, 1h old", tc.name, c.Version, age, err)
		}
	}
}

// TestParseCatalogZeroes: zero values are legal where the contract allows them, and the
// texts may be null; only a missing field is refused.
func TestParseCatalogZeroes(t *testing.T) {
	zero := strings.NewReplacer(`"department": "市场监管局"`, `"department": ""`, `"queue_category": "E"`, `"queue_category": ""`,
		`"legal_basis": "《市场主体登记管理条例》"`, `"legal_basis": null`, `"conditions": "已登记的企业"`, `"conditions": ""`,
		`"steps": ["申请", "受理", "审核", "发证"]`, `"steps": null`, `"time_limit_workdays": 3`, `"time_limit_workdays": 0`,
		`"copies": 1`, `"copies": 0`, `"online_apply": true`, `"online_apply": false`, `"fee": 80`, `"fee": 0`).Replace(pullGoodCatalog)
	c, err := ParseCatalog([]byte(zero))
	if err != nil {
		t.Fatalf("ParseCatalog(zero values) = %v", err)
	}
	if it := c.Items[0]; it.TimeLimitWorkdays != 0 || it.OnlineApply || it.Steps != nil || it.Materials[0].Copies != 0 || c.Items[1].Fee != "免费" {
		t.Fatalf("ParseCatalog(zero values) = %+v", c)
	}
}

func FuzzParseCatalog(f *testing.F) {
	f.Add([]byte(pullGoodCatalog))
	f.Add([]byte(`{"version": "1", "items": [{"code": "a", "name": "b", "fee": -1}]}`))
	f.Add([]byte(`{"version": "1", "items": [{"code": "a", "name": "b", "steps": null, "conditions": 3}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCatalog(data)
		if err != nil {
			return
		}
		// What was accepted survives a round trip through the stored form.
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseCatalog(b); err != nil {
			t.Fatalf("re-parsing an accepted catalogue: %v\n%s", err, b)
		}
	})
}

func FuzzParseNodeConfig(f *testing.F) {
	f.Add([]byte(pullGoodConfig))
	f.Add([]byte(strings.ReplaceAll(pullGoodConfig, `"id":`, `"number":`)))
	f.Add([]byte(`{"hall_name": "x", "timezone": "UTC", "categories": null, "windows": [{"id": 0}], "opening_hours": [{"days": "mon-sun", "open": "00:00", "close": "23:59"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseNodeConfig(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseNodeConfig(b); err != nil {
			t.Fatalf("re-parsing an accepted config: %v\n%s", err, b)
		}
	})
}
