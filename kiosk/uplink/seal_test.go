package uplink

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

func TestSealOpen(t *testing.T) {
	key := pullKey()
	type applicant struct {
		IDNumber string `json:"id_number"`
		Name     string `json:"name"`
	}
	in := applicant{"11010519491231002X", "张三"}
	s, err := Seal(key, "k2026", in)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID != "k2026" || bytes.Contains([]byte(s.Sealed), []byte("1101051949")) {
		t.Fatalf("Seal = %+v", s)
	}
	var out applicant
	if err := Open(key, s, &out); err != nil || out != in {
		t.Fatalf("Open = %+v, %v; want %+v", out, err, in)
	}

	// The box is what the contract says: base64 of a 12-byte nonce and AES-256-GCM with no
	// additional data, so a platform opens it with nothing but the standard library.
	box, _ := base64.StdEncoding.DecodeString(s.Sealed)
	b, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(b)
	plain, err := g.Open(nil, box[:12], box[12:], nil)
	if err != nil || !json.Valid(plain) || !bytes.Contains(plain, []byte(`"id_number":"11010519491231002X"`)) {
		t.Fatalf("plain AES-GCM open = %s, %v", plain, err)
	}

	s2, _ := Seal(key, "k2026", in)
	if s2.Sealed == s.Sealed {
		t.Fatal("two seals of the same value are equal: the nonce is not random")
	}
	wrong := append([]byte(nil), key...)
	wrong[0] ^= 1
	if err := Open(wrong, s, &out); err == nil {
		t.Fatal("Open with a wrong key succeeded")
	}
	tampered := SealedJSON{Sealed: base64.StdEncoding.EncodeToString(append(box[:len(box)-1:len(box)-1], box[len(box)-1]^1)), KeyID: "k2026"}
	if err := Open(key, tampered, &out); err == nil {
		t.Fatal("Open of a tampered box succeeded")
	}
	if _, err := Seal(key[:16], "k", in); !errors.Is(err, ErrSealKey) {
		t.Fatalf("Seal with a 16-byte key = %v; want ErrSealKey", err)
	}
	if _, err := Seal(key, "", in); err == nil {
		t.Fatal("Seal without a key id succeeded")
	}
}

func TestIDHash(t *testing.T) {
	key := []byte("deployment")
	if got, want := IDHash(key, "11010519491231002x"), idnum.Hash(key, "11010519491231002X"); got != want || len(got) != 64 {
		t.Fatalf("IDHash = %q; want %q", got, want)
	}
}

func TestSealBytesAD(t *testing.T) {
	box, err := sealBytes(pullKey(), []byte("%PDF-1.7"), []byte("pk-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sealOpenBytes(pullKey(), box, []byte("pk-2")); err == nil {
		t.Fatal("a document opened under another pickup's id")
	}
	if got, err := sealOpenBytes(pullKey(), box, []byte("pk-1")); err != nil || string(got) != "%PDF-1.7" {
		t.Fatalf("sealOpenBytes = %q, %v", got, err)
	}
}
