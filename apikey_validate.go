package hirehook

// Validate checks a new API key as a person names it: a name of 1 to 200
// characters and a scope a key may have. Who may make a key of which
// scope in which tenant is the operations layer's rule, which knows the
// key that acts. The error is an EINVALID *Error naming the field.
func (k *APIKey) Validate() error {
	if k.Name == "" || len(k.Name) > 200 {
		return FieldError("name", "is required: 1 to 200 characters")
	}
	if k.Scope == ScopeAny || !k.Scope.Valid() {
		return FieldError("scope", "must be admin, producer or viewer")
	}
	return nil
}
