package ui

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

var (
	fontsOnce sync.Once
	testFonts *Fonts
	fontsErr  error
)

// loadTestFonts loads Noto Sans CJK, the only font the tests depend on.
func loadTestFonts(t testing.TB) *Fonts {
	t.Helper()
	fontsOnce.Do(func() { testFonts, fontsErr = loadFirst(defaultFonts[:1]) })
	if fontsErr != nil {
		t.Skipf("skipping: Noto Sans CJK is not installed (apt-get install fonts-noto-cjk): %v", fontsErr)
	}
	return testFonts
}

var clock = time.Date(2026, 3, 9, 9, 41, 0, 0, time.FixedZone("CST", 8*3600))

// lang picks the zh or en text of a gallery string.
func lang(m Mode, zh, en string) string {
	if m.Lang == "en" {
		return en
	}
	return zh
}

func status(m Mode, offline bool) StatusBar {
	return StatusBar{
		Hall:        lang(m, "海淀区政务服务中心 · 一层大厅", "Haidian Government Service Centre · Hall 1"),
		Clock:       clock,
		Offline:     offline,
		OfflineText: lang(m, "网络中断，部分业务暂不可用", "Offline: some services unavailable"),
	}
}

func actions(m Mode) []Button {
	return []Button{
		{ID: "back", Label: lang(m, "返回", "Back"), Kind: ButtonSecondary},
		{ID: "home", Label: lang(m, "首页", "Home"), Kind: ButtonSecondary},
		{ID: "staff", Label: lang(m, "呼叫工作人员", "Call staff"), Kind: ButtonDanger, Modeless: true},
		{ID: "elderly", Label: lang(m, "长辈模式", "Large text"), Kind: ButtonPrimary},
	}
}

// gallery returns screens that together use every widget.
func gallery(m Mode) []Screen {
	tiles := Tiles{Items: []Tile{
		{ID: "cat.hukou", Title: lang(m, "户籍办理", "Household registration"), Detail: lang(m, "等候 5 人 · 约 12 分钟", "5 waiting · about 12 min")},
		{ID: "cat.social", Title: lang(m, "社保医保", "Social insurance"), Detail: lang(m, "等候 2 人 · 约 5 分钟", "2 waiting · about 5 min")},
		{ID: "cat.tax", Title: lang(m, "税务登记与发票领用", "Tax registration and invoices"), Detail: lang(m, "等候 11 人 · 约 30 分钟", "11 waiting · about 30 min")},
		{ID: "cat.biz", Title: lang(m, "企业开办", "Starting a business"), Detail: lang(m, "无需等候", "No wait")},
		{ID: "cat.cert", Title: lang(m, "证照打印", "Certificate printing"), Disabled: true, Reason: lang(m, "打印机缺纸，请到 3 号窗口办理", "Printer out of paper: please go to window 3")},
		{ID: "cat.housing", Title: lang(m, "公积金", "Housing fund"), Detail: lang(m, "等候 1 人", "1 waiting")},
	}}
	if m.Elderly {
		// The elderly type fits four tiles a page (as the kiosk pages them): keep the
		// disabled one among them.
		tiles.Items = []Tile{tiles.Items[0], tiles.Items[1], tiles.Items[4], tiles.Items[5]}
	}
	home := Screen{
		Name:     "gallery.home",
		Status:   status(m, false),
		Title:    lang(m, "请选择办理的业务", "Choose a service"),
		Subtitle: lang(m, "点击下方业务取号；如需帮助，请按“呼叫工作人员”。", "Tap a service to take a number. For help, press “Call staff”."),
		Body: []Widget{
			tiles,
			Notice{Kind: NoticeInfo, Text: lang(m, "今日办理时间 9:00–17:00，中午不休息。", "Open today 9:00–17:00, also at lunchtime.")},
		},
		Actions: actions(m),
	}
	var items []ListItem
	for i := 1; i <= 12; i++ {
		n := strconv.Itoa(i)
		items = append(items, ListItem{ID: "item." + n,
			Title:  lang(m, "第 "+n+" 项：居住证签注（续签）", "Item "+n+": residence permit renewal"),
			Detail: lang(m, "所需材料：身份证、居住证、近期照片一张", "Bring: ID card, residence permit, one recent photo")})
	}
	list := Screen{
		Name:   "gallery.list",
		Status: status(m, true),
		Title:  lang(m, "办理进度与材料清单", "Progress and checklist"),
		Body: []Widget{
			Notice{Kind: NoticeWarning, Text: lang(m, "网络中断：进度查询暂不可用，您仍可取号和打印已下载的证照。", "Offline: progress queries are unavailable; you can still take a number and print downloaded certificates.")},
			Progress{Label: lang(m, "正在打印（第 2 页，共 3 页）", "Printing (page 2 of 3)"), Fraction: 0.66},
			List{ID: "materials", Items: items, Offset: 30},
		},
		Actions: actions(m),
	}
	notices := Screen{
		Name:     "gallery.notices",
		Status:   status(m, false),
		Title:    lang(m, "提交材料", "Submit documents"),
		Subtitle: lang(m, "请按提示操作，全程约需 3 分钟。", "Follow the prompts; this takes about 3 minutes."),
		Body: []Widget{
			Notice{Kind: NoticeSuccess, Text: lang(m, "材料已提交成功。", "Your documents were submitted.")},
			Notice{Kind: NoticeError, Text: lang(m, "身份证读取失败，请重新放置身份证（芯片面朝下）。", "Could not read the ID card. Place it again, chip side down.")},
			Spacer{MM: 3},
			Progress{Label: lang(m, "正在连接服务平台……", "Connecting to the platform…"), Fraction: -1},
			Text{Text: lang(m, "如长时间无响应，可先取号到窗口办理。", "If nothing happens for a while, take a number and go to a window."), Size: TextSmall},
			Buttons{Items: []Button{
				{ID: "retry", Label: lang(m, "重新读卡", "Read the card again")},
				{ID: "skip", Label: lang(m, "改为手工输入", "Type the number instead"), Kind: ButtonSecondary},
			}},
		},
		Actions: actions(m),
	}
	keypad := Screen{
		Name:     "gallery.keypad",
		Status:   status(m, false),
		Title:    lang(m, "请输入身份证号码", "Enter your ID number"),
		Subtitle: lang(m, "18 位，最后一位可能是 X", "18 characters; the last may be X"),
		Body: []Widget{
			Keypad{ID: "idno", Value: "11010519491231002", MaxLen: 18, AllowX: true, OK: lang(m, "确认", "Confirm")},
		},
		Actions: actions(m)[:3],
	}
	ticket := Screen{
		Name:   "gallery.ticket",
		Status: status(m, false),
		Title:  lang(m, "取号成功", "Your number"),
		Body: []Widget{
			Text{Text: "A028", Size: TextHuge, Align: AlignCenter},
			Text{Text: lang(m, "前面还有 5 人，请留意叫号屏和语音提示。", "5 people ahead of you. Watch the display and listen for your number."), Align: AlignCenter},
			QR{Content: "https://zwfw.example.gov.cn/q/A028?h=110108-01", Caption: lang(m, "微信扫码，手机查看排队进度", "Scan to follow the queue on your phone")},
		},
		Actions: actions(m),
	}
	pin := Screen{
		Name:   "gallery.modal",
		Status: status(m, false),
		Title:  lang(m, "请输入取件码", "Enter the pickup code"),
		Body: []Widget{
			Text{Text: lang(m, "取件码见短信通知。", "The code is in your text message."), Size: TextSmall},
			Keypad{ID: "pin", Value: "4821", Masked: true, MaxLen: 6, OK: lang(m, "确认", "OK")},
		},
		Actions: actions(m),
		Modal: &Modal{
			Title: lang(m, "还需要更多时间吗？", "Do you need more time?"),
			Text:  lang(m, "页面即将返回首页。如需继续办理，请点击“继续”。", "This page will return to the start. Tap “Continue” to carry on."),
			Buttons: []Button{
				{ID: "more", Label: lang(m, "继续办理", "Continue")},
				{ID: "quit", Label: lang(m, "返回首页", "Start again"), Kind: ButtonSecondary},
			},
		},
	}
	return []Screen{home, list, notices, keypad, ticket, pin, longTiles(m)}
}

// longTiles has categories with the long names real halls give them: the titles wrap to
// two or three lines, never cut.
func longTiles(m Mode) Screen {
	names := []struct{ zh, en string }{
		{"不动产登记与抵押权变更登记", "Real estate registration and mortgage changes"},
		{"社会保险参保登记及缴费基数申报", "Social insurance enrolment and contributions"},
		{"出入境证件办理（护照、港澳通行证）", "Exit and entry documents (passports, travel permits)"},
		{"企业开办一件事（营业执照、公章、发票）", "Business start-up in one go (licence, seal, invoices)"},
		{"住房公积金提取与贷款", "Housing provident fund withdrawals and loans"},
		{"户籍迁移与居民身份证办理", "Household moves and resident ID cards"},
	}
	cols := 3
	if m.Elderly {
		names, cols = names[:4], 2
	}
	var items []Tile
	for i, n := range names {
		items = append(items, Tile{ID: "long." + strconv.Itoa(i), Title: lang(m, n.zh, n.en),
			Detail: lang(m, "等候 "+strconv.Itoa(i)+" 人", strconv.Itoa(i)+" waiting")})
	}
	return Screen{
		Name:    "gallery.tiles_long",
		Status:  status(m, false),
		Title:   lang(m, "请选择办理的业务", "Choose a service"),
		Body:    []Widget{Tiles{Columns: cols, Items: items}},
		Actions: actions(m),
	}
}

// busiest is the heaviest screen to repaint: 8 tiles, a 12-item list, status and 4 actions.
func busiest() Screen {
	m := Mode{Lang: "zh"}
	s := gallery(m)[0]
	tiles := s.Body[0].(Tiles)
	tiles.Items = append(tiles.Items, Tile{ID: "cat.car", Title: "车驾管", Detail: "等候 3 人"}, Tile{ID: "cat.entry", Title: "出入境", Detail: "等候 7 人 · 约 20 分钟"})
	l := gallery(m)[1].Body[2].(List)
	l.Height = 0
	s.Body = []Widget{tiles, l}
	s.Status = status(m, true)
	return s
}
