package main

import (
	"strings"
	"testing"
)

// TestDeviceMetricsOneHeaderPerFamily: two devices of a kind give one HELP and TYPE per
// family, their samples together, as Prometheus requires.
func TestDeviceMetricsOneHeaderPerFamily(t *testing.T) {
	reader := func(name string, reads int64) sampler {
		return func() []sample {
			return []sample{{"hallkiosk_idcard_reads_total", "Cards read successfully.", name, reads},
				{"hallkiosk_idcard_frame_errors_total", "Corrupt frames from the reader.", name, 0}}
		}
	}
	var b strings.Builder
	deviceMetrics([]sampler{reader("idcard", 3), reader("idcard2", 5)})(&b)
	want := `# HELP hallkiosk_idcard_reads_total Cards read successfully.
# TYPE hallkiosk_idcard_reads_total counter
hallkiosk_idcard_reads_total{device="idcard"} 3
hallkiosk_idcard_reads_total{device="idcard2"} 5
# HELP hallkiosk_idcard_frame_errors_total Corrupt frames from the reader.
# TYPE hallkiosk_idcard_frame_errors_total counter
hallkiosk_idcard_frame_errors_total{device="idcard"} 0
hallkiosk_idcard_frame_errors_total{device="idcard2"} 0
`
	if b.String() != want {
		t.Errorf("metrics =\n%s\nwant\n%s", b.String(), want)
	}
}
