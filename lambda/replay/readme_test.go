package replay_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The README shows replay output; it must be what the replay prints now. Paths in the
// README are from the repository's root.
func TestREADMEExamplesAreCurrent(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := codeBlocks(string(raw))
	fromRoot := func(s string) string { return strings.ReplaceAll(s, "testdata/", "../../testdata/") }
	toRoot := func(s string) string { return strings.ReplaceAll(s, "../../testdata/", "testdata/") }
	checked := 0
	for _, b := range blocks {
		lines := strings.Split(strings.TrimRight(b, "\n"), "\n")
		switch {
		case strings.HasPrefix(lines[0], "$ go run ./lambda/cmd/replay "):
			// A command and its output.
			env, args := map[string]string{}, strings.Fields(strings.TrimPrefix(lines[0], "$ go run ./lambda/cmd/replay "))
			for k := range args {
				args[k] = fromRoot(args[k])
			}
			code, out, errOut := run(t, env, args...)
			if code != 0 {
				t.Errorf("README: %s: exit %d: %s", lines[0], code, errOut)
				continue
			}
			if diff := cmp.Diff(strings.Join(lines[1:], "\n"), toRoot(strings.TrimRight(out, "\n"))); diff != "" {
				t.Errorf("README: the output of %s is not what it prints now (-README +now):\n%s", lines[0], diff)
			}
			checked++
		case strings.HasPrefix(lines[0], "event      testdata/events/headline-join.json"):
			// make replay's output, at the top.
			code, out, errOut := run(t, nil, "-cluster", headline, join)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if diff := cmp.Diff(strings.Join(lines, "\n"), toRoot(strings.TrimRight(out, "\n"))); diff != "" {
				t.Errorf("README: make replay's output is not what it prints now (-README +now):\n%s", diff)
			}
			checked++
		}
	}
	if checked < 2 {
		t.Errorf("checked %d README examples, want the make replay output and the -sweep example", checked)
	}
}

// codeBlocks returns the contents of the markdown's fenced code blocks.
func codeBlocks(md string) []string {
	var out []string
	parts := strings.Split(md, "```")
	for k := 1; k < len(parts); k += 2 {
		b := parts[k]
		if i := strings.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:] // the fence line's language tag
		}
		out = append(out, b)
	}
	return out
}
