package cli

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/hirehook/hirehook"
)

// fieldsFlag is a repeatable --config or --credential: each value is
// key=value, or for a credential key=@file, read from the file so that a
// secret (a password, a service account's JSON key) stays out of the
// shell's history and of ps. key= (empty) removes the field on update.
//
// Set keeps its error for err rather than returning it: the flag package
// would quote the whole value, a credential's too, in its message.
type fieldsFlag struct {
	name      string // "config" or "credential", for errors
	fromFiles bool   // key=@file reads the file
	values    map[string]string
	bad       error // the first value's error; see err
}

func (f *fieldsFlag) String() string { return "" }

func (f *fieldsFlag) Set(s string) error {
	if err := f.set(s); err != nil && f.bad == nil {
		f.bad = err
	}
	return nil
}

// err is the first wrong value's error, naming the flag but not the value.
func (f *fieldsFlag) err() error {
	if f.bad == nil {
		return nil
	}
	return fmt.Errorf("--%s: %w", f.name, f.bad)
}

func (f *fieldsFlag) set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return errors.New("want key=value (a credential also key=@file)")
	}
	if f.fromFiles {
		if path, ok := strings.CutPrefix(v, "@"); ok {
			b, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("read %s's value: %w", k, err)
			}
			// A file written by echo or an editor ends with a new line that
			// is no part of a password.
			v = strings.TrimRight(string(b), "\r\n")
			if v == "" {
				return fmt.Errorf("the file %s for %s is empty", path, k)
			}
		}
	}
	if f.values == nil {
		f.values = map[string]string{}
	}
	if _, dup := f.values[k]; dup {
		return fmt.Errorf("%s is given twice", k)
	}
	f.values[k] = v
	return nil
}

// checkKind refuses --kind values the hub does not know before asking it,
// listing those it does.
func checkKind(kind string) error {
	if kind == "" || slices.Contains(hirehook.DestinationKindNames(), kind) {
		return nil
	}
	return fmt.Errorf("--kind %q: must be one of %s", kind, strings.Join(hirehook.DestinationKindNames(), ", "))
}

// writeDestination writes a broker endpoint's kind, destination, config
// and the names of its credentials (never their values, which the hub
// does not show either), or a webhook endpoint's URL.
func writeDestination(w io.Writer, ep hirehook.Endpoint) {
	if ep.Kind == "" || ep.Kind == hirehook.KindHTTP {
		fmt.Fprintf(w, "kind\t%s\n", hirehook.KindHTTP)
		fmt.Fprintf(w, "url\t%s\n", ep.URL)
		return
	}
	fmt.Fprintf(w, "kind\t%s\n", ep.Kind)
	fmt.Fprintf(w, "destination\t%s\n", ep.URL)
	for _, k := range slices.Sorted(maps.Keys(ep.Config)) {
		fmt.Fprintf(w, "config\t%s=%s\n", k, ep.Config[k])
	}
	if len(ep.Credentials) > 0 {
		fmt.Fprintf(w, "credentials\t%s (values hidden)\n", strings.Join(slices.Sorted(maps.Keys(ep.Credentials)), ","))
	}
}

// endpointJSON is an endpoint as --json prints it: as the API answers,
// with its credentials' names (hirehook.Endpoint leaves them out).
type endpointJSON struct {
	hirehook.Endpoint
	Credentials map[string]string `json:"credentials,omitempty"`
}

func asJSON(ep hirehook.Endpoint) endpointJSON {
	v := endpointJSON{Endpoint: ep}
	for k := range ep.Credentials {
		if v.Credentials == nil {
			v.Credentials = map[string]string{}
		}
		v.Credentials[k] = hirehook.Masked
	}
	return v
}
