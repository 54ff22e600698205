package ui

import "time"

// Screen is one full-screen view model. Every string in it is already translated (see
// [Catalog]); the renderer never makes up text of its own except digits and the clock.
type Screen struct {
	Name     string // stable name for goldens and logs, e.g. "ticket.category"
	Status   StatusBar
	Title    string
	Subtitle string
	Body     []Widget // laid out top to bottom
	// Actions is the bottom bar (back, home, call staff, language, elderly mode), always visible
	// and never scrolled away.
	Actions []Button
	// Modal is drawn over everything and dims the rest; only its buttons and the Actions
	// marked Modeless take input while it is up.
	Modal *Modal
}

// StatusBar is the strip at the top of every screen.
type StatusBar struct {
	Hall    string
	Clock   time.Time // drawn as 15:04 in Clock's location; zero hides the clock
	Offline bool
	// OfflineText is the badge's words (e.g. "网络中断，部分业务暂不可用"); the badge is text with an
	// icon, never colour alone.
	OfflineText string
	// StaffCalled is the confirmation that staff are on their way (e.g. "工作人员马上就来"),
	// a badge with a check mark beside the clock; empty: none. It sits outside the body, so
	// it never pushes a screen's content away.
	StaffCalled string
}

// Mode is how a screen is drawn: the language only picks font features and line breaking (the
// text itself is already translated); Elderly scales fonts >= 1.5x, line spacing >= 1.3x, uses
// the high-contrast palette and larger touch targets.
type Mode struct {
	Lang    string // "zh" or "en"
	Elderly bool
}

// Widget is one of the view-model types below.
type Widget interface{ widget() }

// TextSize is a step of the type scale; the renderer maps it to pixels from the DPI and Mode.
type TextSize int

const (
	TextBody TextSize = iota
	TextSmall
	TextLarge
	TextHuge // ticket numbers
)

// Align is the horizontal alignment of a Text.
type Align int

const (
	AlignStart Align = iota
	AlignCenter
)

// Text is a paragraph, wrapped to the width (CJK-aware: breaks between ideographs, never before
// closing punctuation such as "，。）", never inside Latin words).
type Text struct {
	Text  string
	Size  TextSize
	Align Align
	Bold  bool
}

// Notice is a boxed message with an icon and words; Kind picks the icon and colours, so the
// meaning is never carried by colour alone.
type Notice struct {
	Kind NoticeKind
	Text string
}

// NoticeKind is the kind of a Notice.
type NoticeKind int

const (
	NoticeInfo NoticeKind = iota
	NoticeSuccess
	NoticeWarning
	NoticeError
)

// Tiles is a grid of large touch tiles (home screen, category choice).
type Tiles struct {
	Columns int // 0: the renderer chooses (fewer in elderly mode)
	Items   []Tile
}

// Tile is one tile. A disabled tile is drawn greyed with its Reason and emits no events.
type Tile struct {
	ID       string
	Title    string
	Detail   string // second line, e.g. "等候 5 人 · 约 12 分钟"
	Disabled bool
	Reason   string // why it is disabled, shown on the tile
}

// ButtonKind picks a button's look.
type ButtonKind int

const (
	ButtonPrimary ButtonKind = iota
	ButtonSecondary
	ButtonDanger
)

// Button is a large touch button (>= 15 mm high at the configured DPI).
type Button struct {
	ID    string
	Label string
	Kind  ButtonKind
	// Modeless (in Screen.Actions) keeps the button lit and working while a Modal is up:
	// the staff call and the language switch, which a citizen stuck at a prompt needs most.
	Modeless bool
}

// Buttons is a row of buttons in the body.
type Buttons struct{ Items []Button }

// List is a vertically scrolling list; dragging scrolls it (the renderer clamps Offset and
// reports the clamped value in Layout), tapping an item emits its ID.
type List struct {
	ID     string
	Items  []ListItem
	Offset int // scroll offset in pixels, owned by the application
	Height int // visible height in pixels; 0: the rest of the body
}

// ListItem is one row of a List.
type ListItem struct {
	ID     string
	Title  string
	Detail string
}

// Keypad is a numeric keypad with a display of the value typed so far. Keys emit events with
// ID "<Keypad.ID>:<key>" where key is "0".."9", "X" (ID-number check digit, if AllowX),
// "del" or "ok".
type Keypad struct {
	ID     string
	Value  string
	Masked bool // show the value as dots
	MaxLen int
	AllowX bool
	OK     string // label of the confirm key
}

// QR is a QR code (github.com/skip2/go-qrcode, level M) with a caption under it.
type QR struct {
	Content string
	Caption string
	SizeMM  float64 // 0: 35 mm
	// MinMM is the smallest the code may shrink to when the body is short of room (a phone
	// still reads 25 mm from a hand's length); 0: it never shrinks below SizeMM.
	MinMM float64
}

// minMM is the side below which v does not shrink.
func (v QR) minMM() float64 {
	size := v.SizeMM
	if size <= 0 {
		size = 35
	}
	if v.MinMM <= 0 || v.MinMM > size {
		return size
	}
	return v.MinMM
}

// Columns sets stacks of widgets side by side, e.g. a ticket's number beside its QR code.
// Each column is laid out top to bottom like the body and centred vertically on the
// tallest; Weights share the width (nil or short: 1 each). A List in a column needs a
// Height.
type Columns struct {
	Cols    [][]Widget
	Weights []int
}

func (c Columns) weight(i int) int {
	if i < len(c.Weights) && c.Weights[i] > 0 {
		return c.Weights[i]
	}
	return 1
}

// Progress is a progress bar, or a spinner-like indeterminate bar when Fraction < 0.
type Progress struct {
	Label    string
	Fraction float64
}

// Spacer is vertical space in millimetres. A Flex spacer in the body also takes an equal
// share of the height the other widgets leave (none while a List fills it): one before and
// one after the widgets centre them.
type Spacer struct {
	MM   float64
	Flex bool
}

// Modal is a prompt over the screen.
type Modal struct {
	Title   string
	Text    string
	Buttons []Button
}

func (Text) widget()     {}
func (Notice) widget()   {}
func (Tiles) widget()    {}
func (Buttons) widget()  {}
func (List) widget()     {}
func (Keypad) widget()   {}
func (QR) widget()       {}
func (Progress) widget() {}
func (Spacer) widget()   {}
func (Columns) widget()  {}
