package pty

import (
	"os"
	"testing"
	"time"
)

// Close must end a pending read on the master even while a driver still holds the slave
// open (a scanner driver only reads, so nothing else would wake the simulator's read).
func TestCloseEndsPendingMasterRead(t *testing.T) {
	p, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	driver, err := os.OpenFile(p.SlavePath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer driver.Close()
	done := make(chan error, 1)
	go func() {
		_, err := p.Master.Read(make([]byte, 16))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the read block
	p.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("read after Close returned no error")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end the pending read on the master")
	}
}
