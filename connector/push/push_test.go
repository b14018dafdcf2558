package push

import (
	"errors"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

func TestCheckTime(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_780_000_000, 0)
	tests := []struct {
		ts   int64
		want error
	}{
		{now.Unix(), nil},
		{now.Add(-Tolerance).Unix(), nil},
		{now.Add(Tolerance).Unix(), nil},
		{now.Add(-Tolerance - time.Second).Unix(), ErrTimestampTooOld},
		{now.Add(Tolerance + time.Second).Unix(), ErrTimestampTooNew},
	}
	for _, tt := range tests {
		if err := CheckTime(tt.ts, now); !errors.Is(err, tt.want) {
			t.Errorf("CheckTime(%d) = %v, want %v", tt.ts, err, tt.want)
		}
	}
}

func TestEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ada@example.com":         "ada@example.com",
		"Ada <ada@example.com>":   "",
		"not an email":            "",
		"":                        "",
		"ada@example.com, b@c.de": "",
	} {
		if got := Email(in); got != want {
			t.Errorf("Email(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuilder_Event(t *testing.T) {
	t.Parallel()
	b := &Builder{System: "workable", Prefix: "wk_", Key: "sha256:abc", Options: Options{SourceID: "src_1", Tenant: "acme"}}
	data := map[string]any{"id": b.ID("42"), "external_refs": b.Ref("42")}
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.FixedZone("CEST", 7200))
	e1, err := b.Event("candidate.created", data, at, true)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := b.Event("candidate.created", data, at, true)
	if err != nil {
		t.Fatal(err)
	}
	if e1.ID != e2.ID || !hirehook.ValidEventID(e1.ID) {
		t.Fatalf("event ids %q, %q: want equal and valid", e1.ID, e2.ID)
	}
	other := &Builder{System: "workable", Prefix: "wk_", Key: "sha256:abc", Options: Options{SourceID: "src_2"}}
	e3, err := other.Event("candidate.created", data, at, true)
	if err != nil {
		t.Fatal(err)
	}
	if e3.ID == e1.ID {
		t.Fatal("two sources made the same event id")
	}
	if got, want := string(e1.Data), `{"external_refs":[{"id":"42","system":"workable","tenant":"acme"}],"id":"wk_42"}`; got != want {
		t.Fatalf("data = %s, want %s", got, want)
	}
	if e1.Subject != (hirehook.Subject{Entity: "candidate", ID: "wk_42"}) || !e1.Derived || e1.OccurredAt.Location() != time.UTC || e1.Source != "workable" {
		t.Fatalf("event = %+v", e1)
	}
	if _, err := b.Event("candidate.created", map[string]any{"email": "x"}, at, false); hirehook.ErrorCode(err) != hirehook.EINVALID {
		t.Fatalf("invalid data: err = %v, want invalid", err)
	}
}
