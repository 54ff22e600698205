package kiosk

import (
	"embed"

	"github.com/hallkiosk/hallkiosk/ui"
)

//go:embed messages/*.toml
var messages embed.FS

// Messages returns the catalogue of every citizen-visible text of the kiosk's screens.
func Messages() (*ui.Catalog, error) { return ui.LoadCatalog(messages, "messages") }
