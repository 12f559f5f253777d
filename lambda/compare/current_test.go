//go:build compare

package compare

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// This check runs the whole comparison (about two minutes on two cores), so it sits
// behind the compare build tag: make test runs it, the quick loop
// (go test ./lambda/...) does not.

// The committed docs/comparison.json is what `make compare` writes today: the README
// quotes it, so a change to the planner, the simulator or a baseline that moves a
// figure must regenerate it.
func TestCommittedComparisonIsCurrent(t *testing.T) {
	report, err := Compare("../../testdata/snapshots", "../../testdata/events")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := report.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"comparison.json", "comparison.md"} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "docs", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("docs/%s is stale: run make compare (diff, -committed +now):\n%s", f, cmp.Diff(string(want), string(got)))
		}
	}
}

// docs/settings.md is what the settings sweep measures now.
func TestCommittedSettingsAreCurrent(t *testing.T) {
	var b bytes.Buffer
	WriteSettings(&b, Settings())
	want, err := os.ReadFile(filepath.Join("..", "..", "docs", "settings.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, b.Bytes()) {
		t.Errorf("docs/settings.md is stale: run make settings (diff, -committed +now):\n%s", cmp.Diff(string(want), b.String()))
	}
}
