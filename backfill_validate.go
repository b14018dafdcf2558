package hirehook

import (
	"fmt"
	"slices"
)

// Validate checks a new backfill as a person sets it up: at least one
// entity, none listed twice, and a rate from 1 to MaxBackfillRate.
// Whether each entity has records (the catalog) and whether the filter
// compiles (package route) are the operations layer's checks. The error
// is an EINVALID *Error naming the field ("entities[1]" for a repeat).
func (b *Backfill) Validate() error {
	if len(b.Entities) == 0 {
		return FieldError("entities", "is required: a list such as [\"candidate\", \"placement\"]")
	}
	for i, e := range b.Entities {
		if slices.Index(b.Entities, e) < i {
			return FieldError(fmt.Sprintf("entities[%d]", i), "%q is listed twice", e)
		}
	}
	if b.RatePerSecond < 1 || b.RatePerSecond > MaxBackfillRate {
		return FieldError("rate_per_second", "must be between 1 and %d", MaxBackfillRate)
	}
	return nil
}
