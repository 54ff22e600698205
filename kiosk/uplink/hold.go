package uplink

import (
	"context"
	"encoding/json"
)

// TypeApplicationSubmitted is the business event of a self-service submission (UPLINK.md).
const TypeApplicationSubmitted = "application.submitted"

// HoldForMaterials is a SenderConfig.Hold: an application.submitted waits until every
// material queued under its local_ref is uploaded (materials scanned while offline go up
// before their submission, UPLINK.md). It tries to upload the pending ones first.
func (p *Puller) HoldForMaterials(ctx context.Context, typ string, data json.RawMessage) bool {
	if typ != TypeApplicationSubmitted {
		return false
	}
	var d struct {
		LocalRef string `json:"local_ref"`
	}
	if json.Unmarshal(data, &d) != nil || d.LocalRef == "" {
		return false // nothing to wait for; the platform judges the event
	}
	if _, pending, err := p.MaterialIDs(ctx, d.LocalRef); err == nil && pending == 0 {
		return false
	}
	p.FlushMaterials(ctx) // an error leaves them pending: the event waits for a later round
	_, pending, err := p.MaterialIDs(ctx, d.LocalRef)
	return err != nil || pending > 0
}
