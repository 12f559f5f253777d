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
		"service web: counts 25s after placement: start 25s from its tasks' median startedAt - createdAt; a stop holds its room 30s: stop timeout 30s (the agent's default); simulation.services.web corrects them",
		"service search: counts 2m30s after placement: start 30s from its tasks' median startedAt - createdAt, then 2m0s to pass its first health check (its health check grace period); a stop holds its room 5m30s: stop timeout 30s (the agent's default) after a deregistration delay of 5m0s (the target group default)",
		"service api: counts 45s after placement: start 15s from its tasks' median startedAt - createdAt, then 30s to pass its first health check (one default health check interval)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("notes lack %q:\n%s", want, got)
		}
	}
	if got := snapshot.TimingNotes(ct.Headline()); !strings.Contains(got[0], "start 30s, the default (its tasks show none)") {
		t.Errorf("headline: %s", got[0])
	}
}
