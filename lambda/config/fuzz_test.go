package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
)

// Any environment is a valid configuration or an error; a valid one survives the trip
// through Environ (what the stack sets) unchanged. Lines are NAME=VALUE.
func FuzzFromEnv(f *testing.F) {
	f.Add("STRATEGY=auto\nCOV_PERCENT=25")
	f.Add("STRATEGY=drain\nDRAIN_TIMEOUT=60s\nDRAIN_SLEEP_TIME=10\nDRAIN_MAX_INSTANCES=3\nREBALANCE_MAX_RETRY=2\nMAX_SERVICES_PER_RUN=100")
	f.Add("JOIN_WINDOW=1h\nDRY_RUN=true\nLOG_LEVEL=debug\nCLUSTERS=a, arn:aws:ecs:us-east-1:1:cluster/b\nOPT_OUT_TAG=team:skip")
	f.Add("COV_PERCENT=1e308\nDRAIN_TIMEOUT=-1h\nMAX_SERVICES_PER_RUN=99999999999999999999")
	f.Fuzz(func(t *testing.T, text string) {
		env := map[string]string{}
		for line := range strings.SplitSeq(text, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		c, err := config.FromEnv(func(k string) string { return env[k] })
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("FromEnv accepted what Validate rejects: %v", err)
		}
		written := c.Environ()
		back, err := config.FromEnv(func(k string) string { return written[k] })
		if err != nil {
			t.Fatalf("Environ wrote what FromEnv rejects: %v\n%v", err, written)
		}
		if diff := cmp.Diff(c, back); diff != "" {
			t.Fatalf("round trip (-read +reread):\n%s", diff)
		}
	})
}
