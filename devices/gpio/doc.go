// Package gpio drives the kiosk's discrete I/O through periph.io: a presence sensor, a
// cabinet door (tamper) switch and a three-lamp status light.
//
// Facts this package is built on (docs/DEVICES.md section 7.1; periph.io/x/conn/v3
// v3.7.3, periph.io/x/host/v3 v3.8.5):
//
//   - The drivers depend on gpio.PinIn / gpio.PinOut only; real pins come from Open, which
//     runs host.Init() and looks names up with gpioreg.ByName. On Linux, host.Init
//     registers the lines of every /dev/gpiochip* (GPIO character device uAPI v2, kernel
//     5.10 or later) through host/v3/gpioioctl. On a machine without chips (CI, a PC
//     kiosk without an I/O board) Init still succeeds and ByName returns nil: Open then
//     returns an error wrapping ErrNoGPIO, which the daemon reports as health "skipped".
//   - Inputs are polled with Read on the injected clock (20 ms by default) and debounced
//     (Debouncer: a level counts once it has held for the debounce time), instead of
//     waiting in WaitForEdge: WaitForEdge(0) returns at once on gpiotest but waits forever
//     on gpioioctl, edge waits cannot be cancelled by a context, and gpioioctl's Read on a
//     line not configured as input silently configures it with a pull-up, so In is always
//     called first with the configured pull (PullNoChange by default).
//   - The status light blinks from the injected clock: LightStaffCalled is amber at 2 Hz
//     (on for the first half of each 500 ms period after Set). Halt turns every lamp off.
//   - The tamper switch reports health "cabinet.closed" (ok) or "cabinet.open" (degraded)
//     and emits TamperChanged. The door is assumed closed at start.
//   - Tests drive the drivers with periph's own fake, gpiotest.Pin (&gpiotest.Pin{}: it
//     embeds a sync.Mutex), setting its level under its lock as the wiring would; its
//     dependency github.com/jonboulle/clockwork is in go.sum.
package gpio
