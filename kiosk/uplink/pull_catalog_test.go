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
