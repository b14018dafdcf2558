package ops_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/bullhorn"
	"github.com/hirehook/hirehook/inbound"
	"github.com/hirehook/hirehook/ops"
	"github.com/hirehook/hirehook/store/sqlite"
)

// kinds are the hub's source kinds, as cmd/hirehook wires them.
var kinds = func() map[string]ops.SourceKind {
	k := map[string]ops.SourceKind{hirehook.SourceBullhorn: bullhorn.SplitConfig}
	for _, name := range inbound.KindNames() {
		k[name] = inbound.SplitConfig(name)
	}
	return k
}()

func newSources(t *testing.T) (*ops.Sources, hirehook.Store, *int) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	changed := new(int)
	return &ops.Sources{Store: st, Kinds: kinds, ChangedFunc: func() { *changed++ }, NowFunc: time.Now}, st, changed
}

func ptr[T any](v T) *T { return &v }

// TestSourceScope: only an admin (or operator) key connects, changes or
// deletes a source, whichever face calls; a refused call stores, wakes
// and audits nothing.
func TestSourceScope(t *testing.T) {
	t.Parallel()
	s, st, changed := newSources(t)
	ctx := context.Background()
	in := ops.SourceInput{Kind: ptr("greenhouse"), Name: ptr("Acme"), Config: json.RawMessage(`{"signing_secret":"s3cret"}`)}
	admin := ops.Actor{TenantID: hirehook.DefaultTenantID, KeyID: "key_a", KeyName: "ops admin", Scope: hirehook.ScopeAdmin}
	src, err := s.SourceCreate(ctx, admin, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, scope := range []hirehook.Scope{hirehook.ScopeViewer, hirehook.ScopeProducer, ""} {
		a := ops.Actor{TenantID: hirehook.DefaultTenantID, KeyID: "key_v", Scope: scope, Via: ops.ViaDashboard}
		if _, err := s.SourceCreate(ctx, a, in); hirehook.ErrorCode(err) != hirehook.EFORBIDDEN {
			t.Errorf("%q create: %v, want forbidden", scope, err)
		}
		if _, err := s.SourceUpdate(ctx, a, src.ID, ops.SourceInput{Enabled: ptr(false)}); hirehook.ErrorCode(err) != hirehook.EFORBIDDEN {
			t.Errorf("%q update: %v, want forbidden", scope, err)
		}
		if err := s.SourceDelete(ctx, a, src.ID); hirehook.ErrorCode(err) != hirehook.EFORBIDDEN {
			t.Errorf("%q delete: %v, want forbidden", scope, err)
		}
	}
	list, _ := st.SourceList(ctx, hirehook.SourceFilter{TenantID: hirehook.DefaultTenantID, Limit: 10})
	audit, _ := st.AuditList(ctx, hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID, Limit: 10})
	if len(list) != 1 || !list[0].Enabled || len(audit) != 1 || *changed != 1 {
		t.Fatalf("after refused calls: %d sources (enabled %v), %d audit entries, %d wake-ups; want 1, true, 1, 1",
			len(list), len(list) > 0 && list[0].Enabled, len(audit), *changed)
	}
	// The API's entry has no "via"; the dashboard's names it.
	if got := string(audit[0].Details); got != `{"enabled":true,"kind":"greenhouse","name":"Acme"}` {
		t.Errorf("API audit details = %s", got)
	}
	admin.Via = ops.ViaDashboard
	if err := s.SourceDelete(ctx, admin, src.ID); err != nil {
		t.Fatal(err)
	}
	audit, _ = st.AuditList(ctx, hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID, Limit: 10})
	if len(audit) != 2 || audit[0].Action != "source.deleted" || string(audit[0].Details) != `{"via":"dashboard"}` {
		t.Errorf("dashboard delete audited as %+v", audit[0])
	}
}

// TestSourceGuides: every kind the hub runs has a guide and every guide a
// kind; each field a guide offers is a field its kind accepts, and each
// push guide's steps give the ingest URL.
func TestSourceGuides(t *testing.T) {
	t.Parallel()
	for name := range kinds {
		if _, ok := ops.SourceGuideOf(name); !ok {
			t.Errorf("kind %s has no guide", name)
		}
	}
	sample := func(f ops.SourceField) any {
		switch f.Type {
		case "seconds":
			return 2000
		case "list":
			return []string{"Approved"}
		case "url":
			return "https://api.lever.co/v1"
		case "select":
			return f.Options[len(f.Options)-1].Value
		case "secret":
			return "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		}
		return "x"
	}
	for _, g := range ops.SourceGuides {
		split, ok := kinds[g.Kind]
		if !ok {
			t.Errorf("guide %s has no kind", g.Kind)
			continue
		}
		for _, f := range g.Fields {
			cfg := map[string]any{f.Name: sample(f)}
			raw, _ := json.Marshal(cfg)
			_, _, err := split(raw)
			if err != nil && strings.Contains(hirehook.ErrorMessage(err), "not a known field") {
				t.Errorf("%s: the form's field %s is not a field of the kind: %v", g.Kind, f.Name, err)
			}
			if f.Label == "" || (f.Type != "select" && f.Placeholder == "") {
				t.Errorf("%s: field %s lacks a label or placeholder", g.Kind, f.Name)
			}
		}
		steps := strings.Join(g.SetupSteps("https://hub.example/in/src_1"), "\n")
		if g.Push && !strings.Contains(steps, "https://hub.example/in/src_1") {
			t.Errorf("%s: the setup steps do not give the ingest URL", g.Kind)
		}
	}
}
