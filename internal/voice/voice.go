// Package voice makes the hall's call announcements as WAV audio, offline: Mandarin speech
// from espeak-ng when it is installed, otherwise a chime.
package voice

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// CallText is the announcement of a call, as halls say it: "请A零二三号到三号窗口办理".
// The ticket's digits are read one by one (零二三, not 二十三), which is how numbers on
// tickets are read out, and the window number as a number. Names are never part of it.
func CallText(ticket string, window int) string {
	var b strings.Builder
	b.WriteString("请")
	for _, r := range ticket {
		if r >= '0' && r <= '9' {
			b.WriteString(digits[r-'0'])
		} else {
			b.WriteRune(r)
		}
	}
	b.WriteString("号到")
	b.WriteString(Number(window))
	b.WriteString("号窗口办理")
	return b.String()
}

var digits = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}

// Number writes 0..999 in Chinese numerals as spoken: 3 三, 10 十, 12 十二, 20 二十,
// 105 一百零五. Other values are written with Arabic digits.
func Number(n int) string {
	switch {
	case n < 0 || n > 999:
		return fmt.Sprint(n)
	case n < 10:
		return digits[n]
	case n < 20:
		return "十" + strings.TrimPrefix(ones(n%10), "零")
	case n < 100:
		return digits[n/10] + "十" + strings.TrimPrefix(ones(n%10), "零")
	}
	s := digits[n/100] + "百"
	switch r := n % 100; {
	case r == 0:
	case r < 10:
		s += "零" + digits[r]
	default:
		s += digits[r/10] + "十" + strings.TrimPrefix(ones(r%10), "零")
	}
	return s
}

func ones(d int) string { return digits[d] }

// Speaker makes announcement audio. It is safe for concurrent use and caches what it made.
type Speaker struct {
	// Command is the espeak-ng binary; empty means "espeak-ng" on PATH.
	Command string
	// Voice is espeak-ng's voice; empty means "cmn" (Mandarin).
	Voice string

	mu    sync.Mutex
	cache map[string][]byte
	order []string
}

// ErrNoVoice means no speech synthesiser is available; Audio falls back to the chime.
var ErrNoVoice = errors.New("voice: espeak-ng not available")

const cacheSize = 64

// Speech returns the WAV of text spoken by espeak-ng, or ErrNoVoice.
func (s *Speaker) Speech(ctx context.Context, text string) ([]byte, error) {
	s.mu.Lock()
	if b, ok := s.cache[text]; ok {
		s.mu.Unlock()
		return b, nil
	}
	s.mu.Unlock()
	cmd, voice := s.Command, s.Voice
	if cmd == "" {
		cmd = "espeak-ng"
	}
	if voice == "" {
		voice = "cmn"
	}
	path, err := exec.LookPath(cmd)
	if err != nil {
		return nil, ErrNoVoice
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	c := exec.CommandContext(ctx, path, "-v", voice, "-s", "150", "--stdout", text)
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("%w: %v: %s", ErrNoVoice, err, strings.TrimSpace(errOut.String()))
	}
	wav, err := fixWAV(out.Bytes())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = map[string][]byte{}
	}
	if _, ok := s.cache[text]; !ok {
		s.cache[text] = wav
		s.order = append(s.order, text)
		if len(s.order) > cacheSize {
			delete(s.cache, s.order[0])
			s.order = s.order[1:]
		}
	}
	return wav, nil
}

// Audio returns the spoken announcement, or the chime when no voice is available. spoken
// says which, so a display can show the text more prominently when only a chime sounds.
func (s *Speaker) Audio(ctx context.Context, text string) (wav []byte, spoken bool) {
	if b, err := s.Speech(ctx, text); err == nil {
		return b, true
	}
	return Chime(), false
}

// fixWAV sets the RIFF and data sizes: espeak-ng writes a streaming header with
// placeholder sizes when its output is a pipe, which browsers may refuse or cut short.
func fixWAV(b []byte) ([]byte, error) {
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errors.New("voice: espeak-ng did not write a WAV")
	}
	i := 12
	for i+8 <= len(b) {
		id, size := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:i+8]))
		if id == "data" {
			out := bytes.Clone(b)
			binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
			binary.LittleEndian.PutUint32(out[i+4:i+8], uint32(len(out)-i-8))
			return out, nil
		}
		if size < 0 || i+8+size > len(b) {
			break
		}
		i += 8 + size
	}
	return nil, errors.New("voice: WAV has no data chunk")
}

var (
	chimeOnce sync.Once
	chimeWAV  []byte
)

// Chime is a two-tone "ding-dong" (E6 then C6, 0.35 s each with a soft decay), 16-bit mono
// 22050 Hz, made in code so it needs nothing installed.
func Chime() []byte {
	chimeOnce.Do(func() {
		const rate = 22050
		var pcm []int16
		for _, f := range []float64{1318.5, 1046.5} {
			n := rate * 35 / 100
			for i := 0; i < n; i++ {
				t := float64(i) / rate
				env := math.Exp(-4*t) * math.Min(1, float64(i)/200)
				pcm = append(pcm, int16(0.5*math.MaxInt16*env*math.Sin(2*math.Pi*f*t)))
			}
		}
		chimeWAV = encodeWAV(pcm, rate)
	})
	return chimeWAV
}

func encodeWAV(pcm []int16, rate int) []byte {
	var b bytes.Buffer
	data := len(pcm) * 2
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	// fmt chunk: size 16, PCM, mono, rate, byte rate, block align 2, 16 bits.
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	binary.Write(&b, binary.LittleEndian, pcm)
	return b.Bytes()
}
