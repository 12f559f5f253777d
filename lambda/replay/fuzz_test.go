package replay_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/replay"
)

// Whatever event file it is given, replay answers (exit 0) or refuses with one line on
// stderr (exit 2); nothing panics or hangs (it never calls ECS: the cluster is
// simulated).
func FuzzReplayEvent(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/events/*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		path := filepath.Join(dir, "event.json")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code := replay.Main([]string{"-json", "-cluster", headline, path}, func(string) string { return "" }, &out, &errOut)
		checkExit(t, code, out.String(), errOut.String())
	})
}

// Arbitrary argument lists (separated by NUL) and environments never crash it.
func FuzzReplayArgs(f *testing.F) {
	f.Add("-cluster\x00"+headline+"\x00"+join, "")
	f.Add("-json\x00-cluster\x00"+headline, "STRATEGY=drain")
	f.Add("-cluster", "COV_PERCENT=abc")
	f.Add("-cluster\x00/dev/null\x00"+join, "")
	f.Fuzz(func(t *testing.T, args, envText string) {
		env := map[string]string{}
		for line := range strings.SplitSeq(envText, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		var out, errOut bytes.Buffer
		code := replay.Main(strings.Split(args, "\x00"), func(k string) string { return env[k] }, &out, &errOut)
		if code != 0 && code != replay.ExitBadInput {
			t.Fatalf("exit %d", code)
		}
		if code == replay.ExitBadInput && errOut.Len() == 0 {
			t.Fatal("refused without a word")
		}
	})
}

func checkExit(t *testing.T, code int, out, errOut string) {
	t.Helper()
	switch code {
	case 0:
		if out == "" {
			t.Fatal("exit 0 without a result")
		}
	case replay.ExitBadInput:
		if lines := strings.Count(strings.TrimSpace(errOut), "\n"); errOut == "" || lines != 0 || out != "" {
			t.Fatalf("bad input must be one line on stderr and nothing on stdout: %q / %q", errOut, out)
		}
	default:
		t.Fatalf("exit %d", code)
	}
}
