// Package devices holds the lifecycle, start-up report, supervision and transports shared by
// every device driver; drivers live in its subpackages.
//
// A driver is a Device: it is built without I/O, then Run owns it until its context ends,
// reopening its transport by itself after faults. Health is reported as data through a
// health.Reporter. A device that cannot be built is reported as failed at start-up and the
// daemon carries on without it.
package devices
