package ops

import (
	"context"
	"encoding/json"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/internal/logkey"
	"log/slog"
	"time"

	"github.com/hirehook/hirehook"
)

// Actor is who runs an operation: the API key that acts, its tenant and
// scope, and the face it acts through.
type Actor struct {
	TenantID string
	KeyID    string
	KeyName  string
	Scope    hirehook.Scope
	// Via names the face when it is not the JSON API ("dashboard"); it
	// is written into the audit entry's details as "via". The JSON API
	// (and the CLI, which calls it) leave it empty.
	Via string
}

// Via values of the faces other than the JSON API.
const ViaDashboard = "dashboard"

// allow returns EFORBIDDEN unless the actor's scope allows need.
func (a Actor) allow(need hirehook.Scope) error {
	if !a.Scope.Allows(need) {
		return hirehook.Errorf(hirehook.EFORBIDDEN, "Your API key's scope (%s) may not do this; it needs %s.", a.Scope, need)
	}
	return nil
}

// AuditStore is the Store method every operation uses: the audit log.
type AuditStore interface {
	AuditAppend(ctx context.Context, e *hirehook.AuditEntry) error
}

// auditor appends the audit entries of operations.
type auditor struct {
	store   AuditStore
	nowFunc func() time.Time
	logger  *slog.Logger
}

// audit records an action of a. details are written as JSON (nil: none),
// with "via" added for a face other than the API. A failure to record is
// logged, not returned: the action itself has happened.
func (au auditor) audit(ctx context.Context, a Actor, action, target string, details map[string]any) {
	if a.Via != "" {
		if details == nil {
			details = map[string]any{}
		}
		details["via"] = a.Via
	}
	var raw json.RawMessage
	if details != nil {
		raw, _ = json.Marshal(details)
	}
	e := &hirehook.AuditEntry{ID: hirehook.NewID("aud"), TenantID: a.TenantID, At: au.now().UTC().Truncate(time.Microsecond),
		KeyID: a.KeyID, KeyName: a.KeyName, Action: action, Target: target, Details: raw}
	if err := au.store.AuditAppend(context.WithoutCancel(ctx), e); err != nil {
		au.log().Error("write audit entry", logkey.Action, action, logkey.Target, target, logkey.Error, err)
	}
}

func (au auditor) now() time.Time { return now(au.nowFunc) }

// now is nowFunc's time, time.Now's when nowFunc is nil.
func now(nowFunc func() time.Time) time.Time {
	if nowFunc == nil {
		return time.Now()
	}
	return nowFunc()
}

// call calls f if it is set (a Notify or Changed hook).
func call(f func()) {
	if f != nil {
		f()
	}
}

func (au auditor) log() *slog.Logger {
	if au.logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return au.logger
}

// catalogOr is c, or the built-in catalog when c is nil.
func catalogOr(c *catalog.Catalog) *catalog.Catalog {
	if c == nil {
		return catalog.Default()
	}
	return c
}
