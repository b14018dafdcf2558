package seal_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hirehook/hirehook/seal"
)

func mustKey(tb testing.TB) (*seal.Key, string) {
	tb.Helper()
	s := seal.NewKey()
	k, err := seal.ParseKey(s)
	if err != nil {
		tb.Fatal(err)
	}
	return k, s
}

func mustRing(tb testing.TB, keys ...*seal.Key) *seal.Keyring {
	tb.Helper()
	r, err := seal.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

var aad = []byte("default\x00ep_1")

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	k, _ := mustKey(t)
	r := mustRing(t, k)
	plain := []byte(`[{"value":"whsec_abc"}]`)
	v, err := r.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if want := "hhenc:v1:" + k.ID() + ":"; !strings.HasPrefix(v, want) {
		t.Fatalf("sealed value %q does not start with %q", v, want)
	}
	if strings.Contains(v, "whsec_abc") || !seal.IsSealed(v) {
		t.Fatalf("sealed value %q", v)
	}
	if id, err := seal.KeyID(v); err != nil || id != k.ID() {
		t.Fatalf("KeyID = %q, %v", id, err)
	}
	got, err := r.Open(v, aad)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(plain) {
		t.Fatalf("Open = %q, want %q", got, plain)
	}
	// Empty plaintext and nil aad work too.
	v, _ = r.Seal(nil, nil)
	if got, err := r.Open(v, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty round trip: %q, %v", got, err)
	}
}

func TestSealIsRandomized(t *testing.T) {
	t.Parallel()
	k, _ := mustKey(t)
	r := mustRing(t, k)
	a, _ := r.Seal([]byte("same"), aad)
	b, _ := r.Seal([]byte("same"), aad)
	if a == b {
		t.Fatal("two seals of the same plaintext are equal: the nonce is not random")
	}
}

func TestTamperDetected(t *testing.T) {
	t.Parallel()
	k, _ := mustKey(t)
	r := mustRing(t, k)
	v, _ := r.Seal([]byte("secret text"), aad)
	i := strings.LastIndex(v, ":") + 1
	ct, err := base64.StdEncoding.DecodeString(v[i:])
	if err != nil {
		t.Fatal(err)
	}
	for _, pos := range []int{0, 12, len(ct) - 1} { // nonce, ciphertext, tag
		bad := append([]byte(nil), ct...)
		bad[pos] ^= 1
		_, err := r.Open(v[:i]+base64.StdEncoding.EncodeToString(bad), aad)
		if !errors.Is(err, seal.ErrTampered) || !strings.Contains(err.Error(), k.ID()) {
			t.Errorf("byte %d flipped: err = %v, want ErrTampered naming %s", pos, err, k.ID())
		}
	}
	// Truncated, not base64, another version: refused, never as plaintext.
	for _, bad := range []string{v[:i] + "AAAA", v[:i] + "!!", strings.Replace(v, ":v1:", ":v9:", 1), "hhenc:", "hhenc:v1:XYZ:AAAA"} {
		if got, err := r.Open(bad, aad); err == nil {
			t.Errorf("Open(%q) = %q, want an error", bad, got)
		}
	}
}

func TestWrongAADRefused(t *testing.T) {
	t.Parallel()
	k, _ := mustKey(t)
	r := mustRing(t, k)
	v, _ := r.Seal([]byte("secret text"), []byte("default\x00ep_1"))
	if _, err := r.Open(v, []byte("default\x00ep_2")); !errors.Is(err, seal.ErrTampered) {
		t.Fatalf("open with another row's aad: %v, want ErrTampered", err)
	}
}

func TestRotationOpensOldValues(t *testing.T) {
	t.Parallel()
	oldKey, oldText := mustKey(t)
	newKey, newText := mustKey(t)
	old := mustRing(t, oldKey)
	v, _ := old.Seal([]byte("sealed long ago"), aad)

	rotated, err := seal.ParseKeyring(newText, oldText)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(v, aad); err != nil || string(got) != "sealed long ago" {
		t.Fatalf("old value after rotation: %q, %v", got, err)
	}
	v2, _ := rotated.Seal([]byte("sealed now"), aad)
	if id, _ := seal.KeyID(v2); id != newKey.ID() {
		t.Fatalf("sealed with %s, want the new primary %s", id, newKey.ID())
	}
	if ids := rotated.IDs(); len(ids) != 2 || ids[0] != newKey.ID() || ids[1] != oldKey.ID() {
		t.Fatalf("IDs = %v", ids)
	}
	// The same key twice is kept once.
	if r, err := seal.ParseKeyring(newText, oldText, newText); err != nil || len(r.IDs()) != 2 {
		t.Fatalf("duplicate key: %v, %v", r, err)
	}
}

func TestMissingKeyNamed(t *testing.T) {
	t.Parallel()
	oldKey, oldText := mustKey(t)
	newKey, newText := mustKey(t)
	v, _ := mustRing(t, oldKey).Seal([]byte("plaintext here"), aad)
	_, err := mustRing(t, newKey).Open(v, aad)
	if !errors.Is(err, seal.ErrUnknownKey) || !strings.Contains(err.Error(), oldKey.ID()) || !strings.Contains(err.Error(), newKey.ID()) {
		t.Fatalf("err = %v, want ErrUnknownKey naming %s and the ring's %s", err, oldKey.ID(), newKey.ID())
	}
	var nilRing *seal.Keyring
	if _, err := nilRing.Open(v, aad); !errors.Is(err, seal.ErrUnknownKey) {
		t.Fatalf("nil keyring: %v", err)
	}
	if _, err := nilRing.Seal([]byte("x"), nil); err == nil {
		t.Fatal("a nil keyring sealed")
	}
	noLeak(t, err, oldText, newText, "plaintext here")
}

func TestUnsealedPassesThrough(t *testing.T) {
	t.Parallel()
	k, _ := mustKey(t)
	legacy := `[{"value":"whsec_old"}]`
	for _, r := range []*seal.Keyring{mustRing(t, k), nil} {
		got, err := r.Open(legacy, aad)
		if err != nil || string(got) != legacy {
			t.Fatalf("legacy value: %q, %v", got, err)
		}
	}
	if seal.IsSealed(legacy) {
		t.Fatal("IsSealed(plain JSON)")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	good := seal.NewKey()
	if _, err := seal.ParseKey(" " + good + "\n"); err != nil {
		t.Fatalf("ParseKey(NewKey()): %v", err)
	}
	short := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	urlSafe := base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 32)))
	for _, bad := range []struct{ in, want string }{
		{"", "empty"},
		{"not base64 at all!", "not standard base64"},
		{short, "16 bytes, want 32"},
		{urlSafe, "not standard base64"},
	} {
		_, err := seal.ParseKey(bad.in)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseKey(%q) = %v, want an error saying %q", bad.in, err, bad.want)
		}
		if bad.in != "" {
			noLeak(t, err, bad.in)
		}
	}
	if _, err := seal.ParseKeyring(good, short); err == nil || !strings.Contains(err.Error(), "key 2") {
		t.Errorf("ParseKeyring with a bad second key: %v", err)
	}
}

func TestKeysNeverPrinted(t *testing.T) {
	t.Parallel()
	k, text := mustKey(t)
	r := mustRing(t, k)
	raw, _ := base64.StdEncoding.DecodeString(text)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprint(r), fmt.Sprintf("%#v", r), fmt.Sprintf("%+v", *r)} {
		if strings.Contains(s, text) || strings.Contains(s, string(raw)) || strings.Contains(s, fmt.Sprintf("%x", raw)) {
			t.Fatalf("printed key material: %s", s)
		}
	}
	if !strings.Contains(fmt.Sprint(r), k.ID()) {
		t.Fatalf("keyring prints as %s, want its key ids", r)
	}
}

// noLeak fails if err's text contains any of the secrets.
func noLeak(tb testing.TB, err error, secrets ...string) {
	tb.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), strings.TrimSpace(s)) {
			tb.Fatalf("error %q reveals %q", err, s)
		}
	}
}

func ExampleKeyring() {
	oldRing, _ := seal.ParseKeyring("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	sealed, _ := oldRing.Seal([]byte("whsec_example"), []byte("default\x00ep_1"))

	// Rotation: the new key seals, the old one still opens.
	ring, _ := seal.ParseKeyring("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	plain, _ := ring.Open(sealed, []byte("default\x00ep_1"))
	fmt.Println(string(plain))
	_, err := ring.Open(sealed, []byte("default\x00ep_2"))
	fmt.Println(errors.Is(err, seal.ErrTampered))
	// Output:
	// whsec_example
	// true
}
