package hirehook_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/hirehook/hirehook"
)

// docFiles are the Markdown pages a reader follows: the README, every page
// under docs/ and the example's README.
func docFiles(tb testing.TB) []string {
	tb.Helper()
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		tb.Fatal(err)
	}
	return append([]string{"README.md", filepath.Join("examples", "onboarding", "README.md"),
		filepath.Join("examples", "rabbitmq-onboarding", "README.md"), filepath.Join("examples", "kafka-analytics", "README.md")}, pages...)
}

var (
	mdLink     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeSpan   = regexp.MustCompile("`[^`]*`")
	htmlAnchor = regexp.MustCompile(`<a (?:name|id)="([^"]+)"`)
)

// TestDocsLinks checks that every relative link in the README and the docs
// names a file or folder that exists and, for a Markdown page, a heading
// it has.
func TestDocsLinks(t *testing.T) {
	t.Parallel()
	anchors := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		a := markdownAnchors(string(b))
		anchors[path] = a
		return a
	}
	checked := 0
	for _, file := range docFiles(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range proseLines(string(b)) {
			if line == "" {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				checked++
				where := fmt.Sprintf("%s:%d: link %s", file, i+1, target)
				path, anchor, _ := strings.Cut(target, "#")
				if path == "" {
					path = file
				} else {
					path = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
				}
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s: no such file or folder: %s", where, path)
					continue
				}
				if anchor != "" && strings.HasSuffix(path, ".md") && !anchorsOf(path)[anchor] {
					t.Errorf("%s: %s has no heading #%s", where, path, anchor)
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d links; is the link pattern still right?", checked)
	}
}

// TestDocsHubAddress checks that the commands in the README and the docs
// reach the hub through HIREHOOK_URL: the README's one export line is the
// only place a command names the hub's port, so a reader on another port
// changes that line alone.
func TestDocsHubAddress(t *testing.T) {
	t.Parallel()
	exports := 0
	for _, file := range docFiles(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range shellLines(string(b)) {
			code := strings.TrimSpace(line)
			if code == "" || strings.HasPrefix(code, "#") {
				continue // a comment, or an answer shown as one
			}
			if strings.HasPrefix(code, "export HIREHOOK_URL=") {
				exports++
				if file != "README.md" {
					t.Errorf("%s:%d: only the README sets HIREHOOK_URL; this page should rely on it: %s", file, i+1, code)
				}
				continue
			}
			if strings.Contains(code, ":8080") {
				t.Errorf("%s:%d: a command names the hub's port; use \"$HIREHOOK_URL\" (or ${HIREHOOK_URL#http://} for an address): %s", file, i+1, code)
			}
		}
	}
	if exports != 1 {
		t.Errorf("the README should export HIREHOOK_URL exactly once; found %d", exports)
	}
}

// TestDocsReachableFromREADME checks that the README links every page
// under docs/, so that none is found only by browsing the folder.
func TestDocsReachableFromREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, line := range proseLines(string(readme)) {
		for _, m := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
			path, _, _ := strings.Cut(m[1], "#")
			linked[filepath.Clean(path)] = true
		}
	}
	entries, err := os.ReadDir("docs")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if p := filepath.Join("docs", e.Name()); !e.IsDir() && !linked[p] {
			t.Errorf("README.md does not link %s", p)
		}
	}
}

// proseLines returns the document's lines with those inside fenced code
// blocks blanked, so that line numbers stay right.
func proseLines(doc string) []string {
	lines := strings.Split(doc, "\n")
	in := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			in = !in
			lines[i] = ""
			continue
		}
		if in {
			lines[i] = ""
		}
	}
	return lines
}

// shellLines returns the lines of the document's sh and bash blocks, the
// others blanked.
func shellLines(doc string) []string {
	lines := strings.Split(doc, "\n")
	in, shell := false, false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			if !in {
				lang := strings.TrimSpace(strings.TrimPrefix(l, "```"))
				shell = lang == "sh" || lang == "bash" || lang == "shell"
			}
			in = !in
			lines[i] = ""
			continue
		}
		if !in || !shell {
			lines[i] = ""
		}
	}
	return lines
}

// markdownAnchors returns the anchors GitHub makes of a document's
// headings (lower case, punctuation dropped, spaces to hyphens, -1, -2 …
// on repeats) and of its explicit <a name> anchors.
func markdownAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, line := range proseLines(doc) {
		for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			anchors[m[1]] = true
		}
		if !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var slug strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				slug.WriteRune(r)
			case r == ' ':
				slug.WriteRune('-')
			}
		}
		s := slug.String()
		if n := seen[s]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			anchors[s] = true
		}
		seen[s]++
	}
	return anchors
}

// destinationFieldsTable is docs/destinations.md's table of every broker
// kind's config and credentials fields, made from hirehook.DestinationKinds.
func destinationFieldsTable() string {
	var b strings.Builder
	b.WriteString("| Kind | Field | Object | Required | Meaning |\n|---|---|---|---|---|\n")
	for _, k := range hirehook.DestinationKinds {
		for _, obj := range []struct {
			name   string
			fields []hirehook.DestinationField
		}{{"config", k.Config}, {"credentials", k.Credentials}} {
			for _, f := range obj.fields {
				req := ""
				if f.Required {
					req = "yes"
				}
				fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", k.Name, f.Name, obj.name, req, strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(f.Help))
			}
		}
	}
	return b.String()
}

// TestDocsDestinationFields checks that docs/destinations.md's field table
// (between <!-- destination-fields --> and <!-- /destination-fields -->)
// is the one hirehook.DestinationKinds makes, so the page cannot drift
// from what the hub accepts. On a difference it prints the table to paste.
func TestDocsDestinationFields(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("docs", "destinations.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	open, closing := "<!-- destination-fields -->\n", "<!-- /destination-fields -->"
	start, end := strings.Index(doc, open), strings.Index(doc, closing)
	if start < 0 || end < start {
		t.Fatalf("docs/destinations.md has no %q … %q section", open, closing)
	}
	if got, want := doc[start+len(open):end], destinationFieldsTable(); got != want {
		t.Errorf("docs/destinations.md's field table is not hirehook.DestinationKinds'; replace it with:\n%s", want)
	}
}
