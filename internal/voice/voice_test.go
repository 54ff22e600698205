package voice

import (
	"context"
	"encoding/binary"
	"errors"
	"os/exec"
	"testing"
)

func TestCallText(t *testing.T) {
	cases := []struct {
		ticket string
		window int
		want   string
	}{
		{"A023", 3, "请A零二三号到三号窗口办理"},
		{"B100", 12, "请B一零零号到十二号窗口办理"},
		{"C0999", 20, "请C零九九九号到二十号窗口办理"},
		{"A001", 105, "请A零零一号到一百零五号窗口办理"},
	}
	for _, c := range cases {
		if got := CallText(c.ticket, c.window); got != c.want {
			t.Errorf("CallText(%q, %d) = %q; want %q", c.ticket, c.window, got, c.want)
		}
	}
}

func TestNumber(t *testing.T) {
	cases := map[int]string{0: "零", 7: "七", 10: "十", 11: "十一", 20: "二十", 35: "三十五", 100: "一百", 101: "一百零一", 110: "一百一十", 999: "九百九十九", 1000: "1000"}
	for n, want := range cases {
		if got := Number(n); got != want {
			t.Errorf("Number(%d) = %q; want %q", n, got, want)
		}
	}
}

// checkWAV verifies a playable PCM WAV: sizes that match the bytes, and a sane format.
func checkWAV(t *testing.T, b []byte) (seconds float64) {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " {
		t.Fatalf("not a WAV: % x", b[:min(len(b), 16)])
	}
	if got := binary.LittleEndian.Uint32(b[4:8]); int(got) != len(b)-8 {
		t.Errorf("RIFF size %d; want %d", got, len(b)-8)
	}
	rate := binary.LittleEndian.Uint32(b[24:28])
	bits := binary.LittleEndian.Uint16(b[34:36])
	if rate < 8000 || rate > 48000 || bits != 16 {
		t.Errorf("format rate=%d bits=%d; want 16-bit PCM at a normal rate", rate, bits)
	}
	i := 12
	for i+8 <= len(b) {
		size := int(binary.LittleEndian.Uint32(b[i+4 : i+8]))
		if string(b[i:i+4]) == "data" {
			if i+8+size != len(b) {
				t.Errorf("data size %d; want %d", size, len(b)-i-8)
			}
			return float64(size) / float64(rate*2)
		}
		i += 8 + size
	}
	t.Fatal("no data chunk")
	return 0
}

func TestChime(t *testing.T) {
	if s := checkWAV(t, Chime()); s < 0.5 || s > 1.5 {
		t.Errorf("chime lasts %.2f s; want about 0.7 s", s)
	}
}

func TestSpeechWithEspeak(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatal("espeak-ng is not installed; scripts/deps.sh installs it")
	}
	var s Speaker
	wav, spoken := s.Audio(context.Background(), CallText("A023", 3))
	if !spoken {
		t.Fatal("Audio fell back to the chime with espeak-ng installed")
	}
	if secs := checkWAV(t, wav); secs < 1 || secs > 10 {
		t.Errorf("announcement lasts %.2f s; want a few seconds of speech", secs)
	}
	again, _ := s.Audio(context.Background(), CallText("A023", 3))
	if &again[0] != &wav[0] {
		t.Error("second Audio of the same text was not served from the cache")
	}
}

func TestNoVoiceFallsBackToChime(t *testing.T) {
	s := Speaker{Command: "no-such-espeak"}
	if _, err := s.Speech(context.Background(), "请"); !errors.Is(err, ErrNoVoice) {
		t.Errorf("Speech without espeak = %v; want ErrNoVoice", err)
	}
	wav, spoken := s.Audio(context.Background(), "请")
	if spoken || string(wav) != string(Chime()) {
		t.Errorf("Audio without espeak: spoken=%v; want the chime", spoken)
	}
}
