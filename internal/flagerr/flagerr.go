// Package flagerr is the error of a wrong flag or environment variable,
// shared by the hub's configuration (internal/hub) and the client-side
// commands (internal/cli) so that both name the field the same way and
// neither has to import the other.
package flagerr

import (
	"fmt"
	"strings"
)

// DefaultAddr is where `hirehook serve` listens unless told otherwise, and
// so where the client commands look for a hub.
const DefaultAddr = "127.0.0.1:8080"

// Error names the flag (and its HIREHOOK_ variable) whose value is wrong.
type Error struct {
	Field string // the flag name, e.g. "db"
	Value string // the offending value, masked for secrets
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("--%s (HIREHOOK_%s) %q: %v", e.Field, EnvName(e.Field), e.Value, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// EnvName is the variable twin of a flag name without its HIREHOOK_ prefix
// (admin-key → ADMIN_KEY).
func EnvName(flagName string) string {
	return strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
