// Package rebalance is the handler: event -> trigger check -> read -> plan -> act ->
// report. The Lambda entry point and the replay command both run it.
package rebalance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/act"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/clock"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/predict"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// DefaultTaskStart is how long predictions assume a task takes to start.
const DefaultTaskStart = sim.DefaultTaskStart

// Handler handles events. Build it once per cold start.
type Handler struct {
	cfg       config.Config
	api       ecsclient.API
	clock     clock.Clock
	log       *slog.Logger
	metrics   io.Writer
	taskStart time.Duration
}

// Options are the Handler's collaborators.
type Options struct {
	Config config.Config
	API    ecsclient.API // ECS, or a simulator
	Clock  clock.Clock
	Log    *slog.Logger
	// Metrics receives one CloudWatch embedded-metric-format line per decision (the
	// function's log stream); nil drops them.
	Metrics io.Writer
	// TaskStart is how long predictions assume a task takes to start.
	TaskStart time.Duration
}

// New builds a Handler.
func New(o Options) *Handler {
	if o.TaskStart <= 0 {
		o.TaskStart = DefaultTaskStart
	}
	if o.Metrics == nil {
		o.Metrics = io.Discard
	}
	return &Handler{cfg: o.Config, api: o.API, clock: o.Clock, log: o.Log, metrics: o.Metrics, taskStart: o.TaskStart}
}

// Handle is the Lambda handler. Poison input (malformed, other detail types, foreign
// clusters) is logged once and returns nil: retrying it is useless. Failures a retry
// can fix (throttling past the SDK's retries, server errors) return an error so that
// Lambda's retries and the dead-letter queue take over.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	_, err := h.Process(ctx, raw)
	return err
}

// Process handles one event and returns a report per cluster it looked at (a
// scheduled run looks at every configured cluster), each also logged as the decision
// record. The error is non-nil only when a retry could help.
func (h *Handler) Process(ctx context.Context, raw []byte) ([]Report, error) {
	ev, err := event.Decode(raw)
	if err != nil {
		r := Report{Decision: plan.Decision{Strategy: plan.StrategySkip, Reason: "ignored: " + err.Error()}, DryRun: h.cfg.DryRun}
		h.log.WarnContext(ctx, "event ignored", slog.String(KeyReason, r.Reason))
		return []Report{r}, nil
	}
	v := ev.Classify(h.cfg.ActsOn)
	switch v.Kind {
	case event.Ignored:
		r := Report{Decision: plan.Decision{Strategy: plan.StrategySkip, Reason: "ignored: " + v.Reason}, DryRun: h.cfg.DryRun}
		if ev.Instance != nil {
			r.Cluster, r.ContainerInstanceARN, r.EC2InstanceID = cluster.NameOf(ev.Instance.ClusterARN), ev.Instance.ContainerInstanceARN, ev.Instance.EC2InstanceID
		}
		h.log.InfoContext(ctx, "event ignored", slog.String(KeyCluster, r.Cluster), slog.String(KeyInstanceARN, r.ContainerInstanceARN), slog.String(KeyReason, r.Reason))
		return []Report{r}, nil
	case event.Scheduled:
		if len(h.cfg.Clusters) == 0 {
			r := Report{Decision: plan.Decision{Strategy: plan.StrategySkip, Reason: "scheduled run without CLUSTERS: nothing to check"}, DryRun: h.cfg.DryRun}
			h.log.ErrorContext(ctx, "scheduled run needs CLUSTERS", slog.String(KeyReason, r.Reason))
			return []Report{r}, nil
		}
		var reports []Report
		var errs []error
		for _, c := range h.cfg.Clusters {
			r, err := h.rebalance(ctx, c, nil)
			reports = append(reports, r)
			errs = append(errs, err)
		}
		return reports, errors.Join(errs...)
	}
	r, err := h.rebalance(ctx, ev.Instance.ClusterARN, ev.Instance)
	return []Report{r}, err
}

// rebalance runs one cluster: sweep, trigger check (when joiner is set), read, decide,
// act. It logs the decision record and the metrics, and returns an error only when a
// retry could help.
func (h *Handler) rebalance(ctx context.Context, clusterID string, joiner *event.InstanceDetail) (r Report, err error) {
	r = Report{Cluster: cluster.NameOf(clusterID), DryRun: h.cfg.DryRun, Decision: plan.Decision{Strategy: plan.StrategySkip}}
	if joiner != nil {
		r.ContainerInstanceARN, r.EC2InstanceID = joiner.ContainerInstanceARN, joiner.EC2InstanceID
	}
	var write ecsclient.WriteAPI = h.api
	if h.cfg.DryRun {
		write = &act.Recorder{}
	}
	actor := act.New(h.api, write, clusterID, h.clock, h.cfg, h.log)
	defer func() {
		r.Steps = actor.Steps()
		if err != nil {
			r.Error = err.Error()
			if !ecsclient.Retryable(err) {
				// A retry would fail the same way; the record says what happened.
				err = nil
			}
		}
		h.emit(ctx, r)
	}()

	// Every invocation first repairs what an earlier one may have left DRAINING.
	r.Swept, err = actor.Sweep(ctx)
	if err != nil {
		r.Reason = "sweep of drain markers failed"
		return r, err
	}
	// And what a move an earlier one did not finish left raised.
	r.SweptMoves, err = actor.SweepMoves(ctx)
	if err != nil {
		r.Reason = "sweep of move markers failed"
		return r, err
	}

	now := h.clock.Now()
	if joiner != nil {
		inst, err := ecsclient.DescribeInstance(ctx, h.api, clusterID, joiner.ContainerInstanceARN)
		if err != nil {
			r.Reason = "could not describe the instance"
			return r, err
		}
		if why := plan.InstanceJoined(inst, now, h.cfg.JoinWindow); why != "" {
			r.Reason, r.Trigger = "not a join: "+why, why
			return r, nil
		}
	}
	c, notes, err := ecsclient.Read(ctx, h.api, clusterID)
	if err != nil {
		r.Reason = "could not read the cluster"
		return r, err
	}
	r.Notes = notes
	if joiner != nil {
		why, holds := plan.ClusterJoined(c, joiner.ContainerInstanceARN)
		if why != "" {
			r.Reason, r.Trigger = "not a join: "+why, why
			return r, nil
		}
		r.Trigger = fmt.Sprintf("join of %s, registered %s ago; it holds %s", joiner.EC2InstanceID,
			now.Sub(c.Instance(joiner.ContainerInstanceARN).RegisteredAt).Round(time.Second), holds)
	} else {
		r.Trigger = "scheduled check"
	}

	budget := h.cfg.FunctionTimeout()
	if dl, ok := ctx.Deadline(); ok {
		budget = dl.Sub(now)
	}
	r.Decision = predict.Decide(ctx, predict.Input{Cluster: c, Config: h.cfg, Now: now, Budget: budget, TaskStart: h.taskStart,
		Clock: h.clock.Now, ComputeBudget: budget - actingTime(h.cfg)})
	if r.Decision.Strategy == plan.StrategySkip {
		return r, nil
	}
	if h.cfg.DryRun {
		// What the actor did to the simulated copy is what it would do.
		r.Run = r.Decision.Chosen.Run
		return r, nil
	}
	r.Run, err = act.Execute(ctx, r.Decision.Strategy, r.Decision.Chosen.Run, r.Decision.Goal, c, actor, h.cfg)
	if errors.Is(err, act.ErrOutOfTime) {
		r.Run.Ended = "stopped: " + err.Error()
		return r, nil
	}
	return r, err
}

// actingTime is what acting may take once the decision is made: the worst-case drain
// or move and the paced UpdateService calls. Predictions get what is left of the
// invocation after the read and this; they are measured on the handler's clock, not
// assumed.
func actingTime(cfg config.Config) time.Duration {
	return cfg.WorstCaseActing() + time.Duration(2*cfg.MaxServicesPerRun)*config.UpdateServiceInterval
}
