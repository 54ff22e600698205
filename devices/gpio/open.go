package gpio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// ErrNoGPIO means this machine has no GPIO at all (no /dev/gpiochip*, as on CI or a PC
// kiosk without an I/O board). The daemon reports the GPIO devices as skipped.
var ErrNoGPIO = errors.New("gpio: no GPIO chips on this machine (no /dev/gpiochip*)")

// ErrNoPin means the machine has GPIO, but no line has the configured name.
var ErrNoPin = errors.New("gpio: no such pin")

// Open initialises periph.io's host drivers and looks up pins by name ("GPIO17", a line
// name from the device tree, or "gpiochipN-NAME" for duplicates). Real pins come from
// the Linux GPIO character device (host/v3/gpioioctl, uAPI v2).
func Open(names ...string) ([]gpio.PinIO, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("gpio: init periph.io host drivers: %w", err)
	}
	pins := make([]gpio.PinIO, 0, len(names))
	for _, n := range names {
		p := gpioreg.ByName(n)
		if p == nil {
			if !haveChips() {
				return nil, fmt.Errorf("%w: cannot open pin %s", ErrNoGPIO, n)
			}
			return nil, fmt.Errorf("%w: %s (see gpioinfo for the line names)", ErrNoPin, n)
		}
		pins = append(pins, p)
	}
	return pins, nil
}

func haveChips() bool {
	m, _ := filepath.Glob("/dev/gpiochip*")
	if len(m) > 0 {
		return true
	}
	// The sysfs interface, on kernels that still have it.
	_, err := os.Stat("/sys/class/gpio/gpiochip0")
	return err == nil
}
