package api

// OpenAPIClosed is the OpenAPI document with every answer object closed
// (additionalProperties: false), so that a validator also reports fields
// the document does not list. Tests validate against it.
func (h *Handler) OpenAPIClosed() ([]byte, error) { return h.buildOpenAPI(true) }
