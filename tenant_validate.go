package hirehook

// ValidateTenantID checks a tenant id chosen by a person: 1 to 64 of
// a-z, 0-9, '_' and '-'. The error is an EINVALID *Error on field "id".
func ValidateTenantID(id string) error {
	ok := len(id) > 0 && len(id) <= 64
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if !ok {
		return FieldError("id", "must be 1 to 64 of a-z, 0-9, '_' and '-'")
	}
	return nil
}

// Validate checks the fields a tenant's creation or update sets: the name
// is 1 to 200 characters, the retention 1 to 3650 days. The error is an
// EINVALID *Error naming the field.
func (u TenantUpdate) Validate() error {
	if u.Name != nil && (len(*u.Name) == 0 || len(*u.Name) > 200) {
		return FieldError("name", "must be 1 to 200 characters")
	}
	if u.RetentionDays != nil && (*u.RetentionDays < 1 || *u.RetentionDays > 3650) {
		return FieldError("retention_days", "must be from 1 to 3650")
	}
	return nil
}
