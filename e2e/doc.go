// Package e2e runs the built binaries (kioskd, kioskctl, devsim) end to end, as a
// technician would, over real ptys, sockets and files.
package e2e
