package snapshot_test

import (
	"strings"
	"testing"

	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// The snapshot command says what timing it read and what it assumed.
func TestTimingNotes(t *testing.T) {
	got := strings.Join(snapshot.TimingNotes(ct.SlowHealth()), "\n")
	for _, want := range []string{
		"service web: start 25s from its tasks' median startedAt - createdAt; stop timeout 30s (the agent's default); set simulation.services.web",
		"service search: start 2m30s from its tasks' median startedAt - createdAt, plus the health check grace period (or one 30 s health check); stop timeout 30s (the agent's default), deregistration delay 5m0s (the target group default)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("notes lack %q:\n%s", want, got)
		}
	}
	if got := snapshot.TimingNotes(ct.Headline()); !strings.Contains(got[0], "start 30s from the default (its tasks show none)") {
		t.Errorf("headline: %s", got[0])
	}
}
