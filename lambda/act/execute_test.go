package act_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/act"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// fakeExecutor replays a scripted sequence of clusters for ReadCounts and records what it
// was asked to do.
type fakeExecutor struct {
	reads    []*cluster.Cluster
	drained  [][]string
	redeploy []string
	moved    []plan.Move
	drainErr error
}

func (f *fakeExecutor) Move(_ context.Context, ms []plan.Move) ([]plan.MoveResult, error) {
	f.moved = append(f.moved, ms...)
	return nil, nil
}

func (f *fakeExecutor) Redeploy(_ context.Context, s []string) error {
	f.redeploy = append(f.redeploy, s...)
	return nil
}

func (f *fakeExecutor) DrainRound(_ context.Context, is []*cluster.Instance) ([]string, error) {
	var ids []string
	for _, i := range is {
		ids = append(ids, i.EC2InstanceID)
	}
	f.drained = append(f.drained, ids)
	return ids, f.drainErr
}

func (f *fakeExecutor) ReadCounts(context.Context) ([]cluster.InstanceCount, error) {
	c := f.reads[0]
	if len(f.reads) > 1 {
		f.reads = f.reads[1:]
	}
	return c.InstanceCounts(), nil
}

func (f *fakeExecutor) Read(context.Context) (*cluster.Cluster, error) {
	c := f.reads[0]
	if len(f.reads) > 1 {
		f.reads = f.reads[1:]
	}
	return c, nil
}

func (f *fakeExecutor) Now() time.Time { return ct.Epoch }

func TestExecuteDrainLoop(t *testing.T) {
	cfg := config.Default()
	cfg.DrainMaxInstances = 1
	start := ct.Loaded(t, 12, 2, 0)
	tests := []struct {
		name       string
		reads      []*cluster.Cluster
		retries    int
		wantRounds int
		wantEnded  string
	}{
		{"stops once COV reaches the gate", []*cluster.Cluster{ct.Loaded(t, 9, 4, 1), ct.Loaded(t, 5, 5, 4)}, 3, 2, "reached the goal"},
		{"stops when a round does not lower COV", []*cluster.Cluster{ct.Loaded(t, 10, 3, 1), ct.Loaded(t, 11, 2, 1)}, 3, 2, "round 2 did not lower COV"},
		{"stops after REBALANCE_MAX_RETRY more rounds", []*cluster.Cluster{ct.Loaded(t, 11, 2, 1), ct.Loaded(t, 10, 3, 1), ct.Loaded(t, 9, 4, 1)}, 1, 2, "REBALANCE_MAX_RETRY (1) rounds done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg.RebalanceMaxRetry = tt.retries
			ex := &fakeExecutor{reads: tt.reads}
			run, err := act.Execute(context.Background(), config.StrategyDrain, plan.Outcome{}, cfg.COVPercent, start, ex, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if run.Rounds != tt.wantRounds || len(ex.drained) != tt.wantRounds || !strings.Contains(run.Ended, tt.wantEnded) {
				t.Errorf("rounds %d (drained %v), ended %q; want %d rounds, %q", run.Rounds, ex.drained, run.Ended, tt.wantRounds, tt.wantEnded)
			}
			for _, round := range ex.drained {
				if len(round) > cfg.DrainMaxInstances {
					t.Errorf("a round drained %d instances", len(round))
				}
			}
		})
	}
	t.Run("an executor error stops the loop and is returned", func(t *testing.T) {
		cfg.RebalanceMaxRetry = 3
		boom := errors.New("boom")
		ex := &fakeExecutor{reads: []*cluster.Cluster{start}, drainErr: boom}
		run, err := act.Execute(context.Background(), config.StrategyDrain, plan.Outcome{}, cfg.COVPercent, start, ex, cfg)
		if !errors.Is(err, boom) || run.Rounds != 1 {
			t.Errorf("Execute = %+v, %v", run, err)
		}
	})
}

func TestExecuteRedeploy(t *testing.T) {
	b := ct.New("demo")
	i1, i2 := b.Instance("us-east-1a"), b.Instance("us-east-1b")
	for _, name := range []string{"a", "b", "c"} {
		s := b.Service(name, ct.Desired(4), ct.TaskSize(16, 16))
		b.Tasks(s, i1, 4)
	}
	_ = i2
	c := b.Cluster(t)
	cfg := config.Default()
	cfg.MaxServicesPerRun = 2
	ex := &fakeExecutor{}
	run, err := act.Execute(context.Background(), config.StrategyForceNewDeployment, plan.Outcome{}, cfg.COVPercent, c, ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, ex.redeploy); diff != "" {
		t.Errorf("redeployed (-want +got), capped at MAX_SERVICES_PER_RUN:\n%s", diff)
	}
	if diff := cmp.Diff(ex.redeploy, run.Services); diff != "" {
		t.Errorf("run.Services: %s", diff)
	}
	ex = &fakeExecutor{}
	if _, err := act.Execute(context.Background(), config.StrategyForceNewDeployment, plan.Outcome{Services: []string{"c"}}, cfg.COVPercent, c, ex, cfg); err != nil || !cmp.Equal([]string{"c"}, ex.redeploy) {
		t.Errorf("an explicit list is redeployed as given: %v %v", ex.redeploy, err)
	}
	if _, err := act.Execute(context.Background(), "yolo", plan.Outcome{}, cfg.COVPercent, c, ex, cfg); err == nil {
		t.Error("an unknown strategy was executed")
	}
}

// Move rounds on the headline cluster: the first round moves what surely lands where
// it helps, the second plans again on the cluster the first left, and the rounds end
// when no move surely helps, at REBALANCE_MAX_RETRY, or when the deadline leaves no
// room for another round's waits (not an error: the first round's work stands).
func TestExecuteMoveRounds(t *testing.T) {
	tests := []struct {
		name       string
		retries    int
		deadline   time.Duration
		wantRounds int
		wantEnded  string
	}{
		{"until no move surely helps", 3, 14 * time.Minute, 2, "after round 2 no move surely helps"},
		{"REBALANCE_MAX_RETRY 0: one round", 0, 14 * time.Minute, 1, "REBALANCE_MAX_RETRY (0) rounds done"},
		{"no time for a second round", 3, 80 * time.Second, 1, "no time left for round 2 (round 1 took"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ct.Headline()
			s := sim.New(c, sim.Options{Now: ct.Epoch.Add(2 * time.Minute), TaskStart: 30 * time.Second, Seed: 1})
			cfg := config.Default()
			cfg.Strategy, cfg.RebalanceMaxRetry = config.StrategyMove, tt.retries
			ctx, cancel := s.WithTimeout(context.Background(), tt.deadline)
			defer cancel()
			var read *cluster.Cluster
			s.View(func(m *cluster.Cluster) { read = m.Clone() })
			run, err := act.Execute(ctx, config.StrategyMove, plan.Outcome{}, cfg.COVPercent, read, act.New(s, s, "demo", s, cfg, quiet), cfg)
			if err != nil {
				t.Fatal(err)
			}
			moved := 0
			for _, r := range run.Results {
				moved += r.Moved
			}
			s.Settle(time.Hour)
			if st := s.Stats(); moved == 0 || st.TasksStopped != moved || st.BelowMinHealthy != 0 {
				t.Errorf("%d moved, %d stopped, %d below minimum healthy: every restart must be a move", moved, st.TasksStopped, st.BelowMinHealthy)
			}
			if run.Rounds != tt.wantRounds || !strings.Contains(run.Ended, tt.wantEnded) {
				t.Errorf("rounds %d, ended %q; want %d, %q", run.Rounds, run.Ended, tt.wantRounds, tt.wantEnded)
			}
			if len(run.Planned) == 0 || len(run.Results) < len(run.Planned) {
				t.Errorf("planned %v (the first round's), results %v (every round's)", run.Planned, run.Results)
			}
		})
	}
}
