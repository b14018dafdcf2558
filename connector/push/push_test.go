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

func TestCheckOrigin(t *testing.T) {
	t.Parallel()
	origins := []string{"https://api.example.com", "http://127.0.0.1:8080/"}
	for _, ok := range []string{"https://api.example.com/v1/x?y=1", "HTTPS://API.EXAMPLE.COM/x", "http://127.0.0.1:8080/a"} {
		if _, err := CheckOrigin(ok, origins); err != nil {
			t.Errorf("CheckOrigin(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"http://api.example.com/x", "https://api.example.com:8443/x", "https://api.example.com.evil.test/x",
		"https://evil.test/api.example.com", "https://api.example.com@evil.test/x", "http://127.0.0.1:8081/a", "//api.example.com/x", "<https://api.example.com/x>; rel=self", ""} {
		_, err := CheckOrigin(bad, origins)
		if !errors.Is(err, ErrOrigin) {
			t.Errorf("CheckOrigin(%q) = %v, want ErrOrigin", bad, err)
		}
	}
}
