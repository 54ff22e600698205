package platformsim

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

//go:embed seed/catalog.json
var seedCatalog []byte

// Person is a made-up citizen of the seed data. The ID numbers are valid (GB 11643 check
// digit) but belong to nobody.
type Person struct {
	IDNumber, Name string
	NameEn         string // pinyin, for the ASCII-only certificate PDFs
}

// DemoPeople are the citizens the seeded pickups, appointments and cases belong to.
var DemoPeople = []Person{
	{demoID("33010619850315123"), "张伟", "Zhang Wei"},
	{demoID("33010219900728204"), "王芳", "Wang Fang"},
	{demoID("11010519491231002"), "李秀英", "Li Xiuying"},
	{demoID("33010819780102301"), "陈明", "Chen Ming"},
}

// LogValue masks the person for logs.
func (p Person) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", idnum.MaskID(p.IDNumber)), slog.String("name", idnum.MaskName(p.Name)))
}

func demoID(first17 string) string {
	c, err := idnum.CheckDigit(first17)
	if err != nil {
		panic("platformsim: bad demo ID " + first17) // a constant above is wrong
	}
	return first17 + string(c)
}

// hallName is the display name of a hall id; the simulator knows no real halls.
func hallName(hall string) string {
	switch hall {
	case "", "sim-hall":
		return "模拟市民服务中心"
	case "hall-0571-01":
		return "西湖区政务服务中心"
	}
	return hall + " 政务服务中心"
}

// seed stores the catalogue and the demo cases once per database.
func (s *Sim) seed(ctx context.Context) error {
	var done string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'seeded'").Scan(&done)
	if err == nil {
		return s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'secret'").Scan((*hexBytes)(&s.secret))
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("platformsim: %w", err)
	}
	var cat catalogFile
	if err := json.Unmarshal(seedCatalog, &cat); err != nil {
		return fmt.Errorf("platformsim: seed catalogue: %w", err)
	}
	s.secret = []byte(randomHex(32))
	if _, err := s.db.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('secret', ?), ('seeded', ?)",
		string(s.secret), s.now().Format(timeLayout)); err != nil {
		return fmt.Errorf("platformsim: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO catalog (k, body) VALUES (1, ?)", seedCatalog); err != nil {
		return fmt.Errorf("platformsim: %w", err)
	}
	return s.seedCases(ctx)
}

// hexBytes scans a TEXT column into a byte slice.
type hexBytes []byte

func (h *hexBytes) Scan(v any) error {
	switch v := v.(type) {
	case string:
		*h = []byte(v)
	case []byte:
		*h = append([]byte(nil), v...)
	default:
		return fmt.Errorf("platformsim: secret of type %T", v)
	}
	return nil
}

func (s *Sim) seedCases(ctx context.Context) error {
	now := s.now()
	day := 24 * time.Hour
	endOfDay := func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d, 23, 59, 59, 0, s.loc)
	}
	prefix := "SIM" + now.Format("20060102")
	cases := []struct {
		who int
		c   Case
	}{
		{0, Case{CaseNo: prefix + "0001", ItemName: "营业执照变更登记", Status: "审查中",
			AcceptedAt: now.Add(-2 * day), DueAt: endOfDay(now.Add(5 * day))}},
		{0, Case{CaseNo: prefix + "0002", ItemName: "不动产转移登记", Status: "审核中",
			AcceptedAt: now.Add(-9 * day), DueAt: endOfDay(now)}},
		{1, Case{CaseNo: prefix + "0003", ItemName: "食品经营许可", Status: "审查中",
			AcceptedAt: now.Add(-25 * day), DueAt: endOfDay(now.Add(-2 * day))}},
		{2, Case{CaseNo: prefix + "0004", ItemName: "高龄津贴申领", Status: "已办结",
			AcceptedAt: now.Add(-6 * day), DueAt: endOfDay(now.Add(4 * day)), FinishedAt: now.Add(-1 * day)}},
	}
	for _, c := range cases {
		c.c.Steps = []Step{{Name: "受理", At: c.c.AcceptedAt, By: "综合窗口"}}
		if c.c.Status == "已办结" {
			c.c.Steps = append(c.c.Steps, Step{Name: "审批", At: c.c.FinishedAt.Add(-2 * time.Hour), By: "民政局"},
				Step{Name: "办结", At: c.c.FinishedAt, By: "民政局"})
		} else {
			c.c.Steps = append(c.c.Steps, Step{Name: "审查", At: c.c.AcceptedAt.Add(3 * time.Hour), By: "后台审批"})
		}
		if err := s.addCase(ctx, DemoPeople[c.who].IDNumber, c.c); err != nil {
			return err
		}
	}
	return nil
}

// seedNode gives a newly enrolled node its hall's config and three pickups; a node enrolled
// again keeps what it has.
func (s *Sim) seedNode(ctx context.Context, node, hall string) error {
	res, err := s.db.ExecContext(ctx, "INSERT INTO configs (node, body) VALUES (?, ?) ON CONFLICT (node) DO NOTHING",
		node, defaultConfig(node, hall))
	if n, err := rowsAffected(res, err); err != nil {
		return fmt.Errorf("platformsim: seed config: %w", err)
	} else if n == 0 {
		return nil
	}
	titles := []struct{ zh, en string }{
		{"营业执照", "Business Licence"},
		{"不动产权证书", "Real Estate Title Certificate"},
		{"出生医学证明", "Medical Certificate of Birth"},
	}
	expires := s.now().Add(30 * 24 * time.Hour)
	for i, t := range titles {
		who := DemoPeople[i%len(DemoPeople)]
		id := fmt.Sprintf("pk-%s-%d", strings.ReplaceAll(node, ".", "-"), i+1)
		holder := idnum.MaskName(who.Name)
		pdf := CertificatePDF(t.en, t.zh, maskPinyin(who.NameEn), id)
		p := Pickup{PickupID: id, IDHash: idnum.Hash(s.key, who.IDNumber), HolderMasked: holder,
			Title: t.zh, Pages: 1, Copies: 1, ExpiresAt: expires}
		if err := s.addPickup(ctx, node, p, pdf); err != nil {
			return err
		}
	}
	return nil
}

// maskPinyin keeps the family name: "Zhang Wei" -> "Zhang *".
func maskPinyin(name string) string {
	family, _, _ := strings.Cut(name, " ")
	return family + " *"
}

type category struct {
	Code        string `json:"code"`
	Prefix      string `json:"prefix"`
	NameZh      string `json:"name_zh"`
	NameEn      string `json:"name_en"`
	Windows     []int  `json:"windows"`
	AvgServiceS int    `json:"avg_service_s"`
	Open        string `json:"open"`
	Close       string `json:"close"`
	DailyCap    int    `json:"daily_cap"`
}

// hallConfig is the seeded shape of GET /v1/nodes/{node}/config.
type hallConfig struct {
	Hall         string            `json:"hall"`
	HallName     string            `json:"hall_name"`
	Timezone     string            `json:"timezone"`
	Categories   []category        `json:"categories"`
	Windows      []window          `json:"windows"`
	OpeningHours []openingHours    `json:"opening_hours"`
	ScreenTexts  map[string]string `json:"screen_texts"`
	Profiles     map[string]string `json:"profiles"`
}

type window struct {
	Number     int      `json:"number"`
	Name       string   `json:"name"`
	Categories []string `json:"categories"`
}

type openingHours struct {
	Days  string `json:"days"`
	Open  string `json:"open"`
	Close string `json:"close"`
}

// seedCategories are the simulated hall's categories. A, general applications, has no
// opening hours, so the simulated hall (make run, the tests) takes tickets at any time of
// day; the others keep a hall's hours and caps.
var seedCategories = []category{
	{"A", "A", "综合受理", "General applications", []int{1, 2, 3}, 420, "", "", 0},
	{"B", "B", "不动产登记", "Real estate registration", []int{4, 5}, 720, "08:30", "17:00", 200},
	{"C", "C", "社保医保", "Social and medical insurance", []int{6, 7}, 300, "08:30", "17:00", 0},
	{"D", "D", "公安户政出入境", "Household and exit-entry", []int{8}, 480, "09:00", "16:30", 120},
	{"E", "E", "企业开办", "Business start-up", []int{9, 10}, 900, "08:30", "17:00", 0},
	{"F", "F", "出件取证", "Certificate pickup", []int{11}, 120, "08:30", "17:30", 0},
}

func defaultConfig(node, hall string) []byte {
	c := hallConfig{Hall: hall, HallName: hallName(hall), Timezone: "Asia/Shanghai", Categories: seedCategories,
		OpeningHours: []openingHours{{"mon-fri", "08:30", "17:30"}, {"sat", "09:00", "12:00"}},
		ScreenTexts: map[string]string{
			"welcome_zh": "欢迎来到" + hallName(hall),
			"welcome_en": "Welcome to the government service hall",
			"notice_zh":  "请携带本人有效身份证件，按号就座，听到叫号后前往对应窗口办理。",
			"notice_en":  "Please bring your ID card, wait for your number and go to the window called.",
			"night_zh":   "24小时自助服务区：如需帮助请拨打 12345。",
		},
		Profiles: map[string]string{node: "ticket-dispenser"}}
	for _, cat := range seedCategories {
		for _, n := range cat.Windows {
			cats := []string{cat.Code}
			if cat.Code != "A" {
				cats = append(cats, "A") // every window helps out with general applications
			}
			c.Windows = append(c.Windows, window{Number: n, Name: fmt.Sprintf("%d号窗口", n), Categories: cats})
		}
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	return b
}
