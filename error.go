package hirehook

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. They are part of the public API: clients match on them, so a
// code is never renamed once released.
const (
	EINVALID          = "invalid"                // the request is malformed or fails validation
	ETOOLARGE         = "too_large"              // the request body is over the configured limit
	EUNSUPPORTEDMEDIA = "unsupported_media_type" // the body is not sent as JSON (Content-Type)
	EMETHOD           = "method_not_allowed"     // the path exists, not with this method; Allow lists those it has
	ENOTFOUND         = "not_found"              // the object does not exist (or belongs to another tenant)
	ECONFLICT         = "conflict"               // the object already exists or changed underneath
	EUNAUTHORIZED     = "unauthorized"           // no valid API key
	EFORBIDDEN        = "forbidden"              // the key is valid but may not do this
	ERATELIMITED      = "rate_limited"           // the key sent too many requests; see Retry-After
	EUNAVAILABLE      = "unavailable"            // the hub is shutting down or the store is unreachable
	EINTERNAL         = "internal"               // a bug or an unexpected failure; details are logged, not shown
)

// Error is an error that is safe to show to a user. Message never contains
// secrets, API keys or payload bodies. Field, when set, names the request
// field that was wrong, as a dotted path ("data.candidate.email",
// "events[3].type").
type Error struct {
	Code    string
	Message string
	Field   string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("hirehook error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("hirehook error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID *Error naming the field that was wrong.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return "" // before e, which errors.As makes escape: no allocation
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain and a
// generic message for any other error, so internal details never reach users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the field named by the first *Error in err's chain.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// codeStatus is the one table from error code to HTTP status, shared by the
// JSON API and the dashboard.
var codeStatus = map[string]int{
	EINVALID:          http.StatusUnprocessableEntity,
	ETOOLARGE:         http.StatusRequestEntityTooLarge,
	EUNSUPPORTEDMEDIA: http.StatusUnsupportedMediaType,
	EMETHOD:           http.StatusMethodNotAllowed,
	ENOTFOUND:         http.StatusNotFound,
	ECONFLICT:         http.StatusConflict,
	EUNAUTHORIZED:     http.StatusUnauthorized,
	EFORBIDDEN:        http.StatusForbidden,
	EUNAVAILABLE:      http.StatusServiceUnavailable,
	ERATELIMITED:      http.StatusTooManyRequests,
	EINTERNAL:         http.StatusInternalServerError,
}

// CodeStatus returns the HTTP status that answers an error of code: 500
// for a code it does not know.
func CodeStatus(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
