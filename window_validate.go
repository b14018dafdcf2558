package hirehook

// Validate checks the window of a recovery: Until, when set, must be after
// Since. The error is an EINVALID *Error on field "until".
func (p DeliveryRecoverParams) Validate() error {
	if !p.Until.IsZero() && !p.Until.After(p.Since) {
		return FieldError("until", "must be after since")
	}
	return nil
}

// Validate checks the window of a reprocess: To must be after From. The
// error is an EINVALID *Error on field "to".
func (p InboundReprocessParams) Validate() error {
	if !p.From.Before(p.To) {
		return FieldError("to", "must be after from")
	}
	return nil
}
