package main

import (
	"encoding/json"
	"fmt"
	"os"

	profiles "github.com/hallkiosk/hallkiosk/firmware-profiles"
)

func profilesCmd(args []string) error {
	set, err := profiles.Load()
	if err != nil {
		return err
	}
	switch {
	case len(args) == 1 && args[0] == "list":
		for _, p := range set.All() {
			fmt.Printf("%-24s %-8s %s %s\n", p.ID, p.Driver, p.Vendor, p.Model)
		}
		return nil
	case len(args) == 2 && args[0] == "show":
		p, err := set.Get(args[1])
		if err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	return usageError{"usage: kioskctl profiles list | profiles show ID"}
}
