package uplink

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

// SealedJSON is personal data the platform needs in clear (the applicant of an
// application.submitted event), sealed for it: Sealed is standard base64 of a 12-byte
// nonce followed by the AES-256-GCM ciphertext and tag of the JSON value, with no
// additional data, so a platform can open it with any AES-GCM library and the key KeyID
// names.
type SealedJSON struct {
	Sealed string `json:"sealed"`
	KeyID  string `json:"key_id"`
}

// LogValue shows only the key id and the size: ciphertext has no place in logs.
func (s SealedJSON) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key_id", s.KeyID), slog.Int("sealed_len", len(s.Sealed)))
}

// ErrSealKey is a key that is not 32 bytes (AES-256).
var ErrSealKey = errors.New("uplink: the sealing key must be 32 bytes (AES-256)")

// Seal encodes v as JSON and seals it with the deployment's data key (see SealedJSON).
func Seal(key []byte, keyID string, v any) (SealedJSON, error) {
	if keyID == "" {
		return SealedJSON{}, errors.New("uplink: seal: empty key id: the platform could not tell which key opens it")
	}
	plain, err := json.Marshal(v)
	if err != nil {
		return SealedJSON{}, fmt.Errorf("uplink: seal: encoding: %w", err)
	}
	box, err := sealBytes(key, plain, nil)
	clear(plain)
	if err != nil {
		return SealedJSON{}, err
	}
	return SealedJSON{Sealed: base64.StdEncoding.EncodeToString(box), KeyID: keyID}, nil
}

// Open is Seal's inverse, for tests and the platform side: it decodes the sealed JSON into
// v. It fails on a wrong key, a tampered box or JSON that does not fit v.
func Open(key []byte, s SealedJSON, v any) error {
	box, err := base64.StdEncoding.DecodeString(s.Sealed)
	if err != nil {
		return fmt.Errorf("uplink: open: sealed is not base64: %w", err)
	}
	plain, err := sealOpenBytes(key, box, nil)
	if err != nil {
		return err
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("uplink: open: %w", err)
	}
	return nil
}

// IDHash is the id_hash of the contract: hex HMAC-SHA256 of the normalised ID number
// under the deployment key.
func IDHash(key []byte, idNumber string) string { return idnum.Hash(key, idNumber) }

// sealBytes returns nonce || AES-256-GCM(plain) with a random nonce and the given
// additional data. It is also how documents and materials are stored at rest, with the
// row's id as additional data so a blob moved to another row does not open.
func sealBytes(key, plain, ad []byte) ([]byte, error) {
	aead, err := sealAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("uplink: seal: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, ad), nil
}

// sealOpenBytes is sealBytes' inverse.
func sealOpenBytes(key, box, ad []byte) ([]byte, error) {
	aead, err := sealAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(box) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("uplink: open: sealed data is too short")
	}
	plain, err := aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], ad)
	if err != nil {
		return nil, errors.New("uplink: open: wrong key or damaged data")
	}
	return plain, nil
}

func sealAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, ErrSealKey
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	return cipher.NewGCM(b)
}
