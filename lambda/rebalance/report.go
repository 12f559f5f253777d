package rebalance

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/act"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

// Log keys of the decision record (docs/operations.md, "Observability"): an API, do not rename.
const (
	KeyCluster      = "cluster"
	KeyInstanceARN  = "containerInstanceArn"
	KeyEC2ID        = "ec2InstanceId"
	KeyDecision     = "decision"
	KeyReason       = "reason"
	KeyCOVBefore    = "covBefore"
	KeyCOVPredicted = "covPredicted"
	KeyServices     = "services"
	KeyInstances    = "instances"
	KeyDryRun       = "dryRun"
	KeyTrigger      = "trigger"
	KeyMinMoves     = "minMoves"
	KeyPredictions  = "predictions"
	KeySkipped      = "skippedServices"
	KeySteps        = "steps"
	KeySwept        = "swept"
	KeySweptMoves   = "sweptMoves"
	KeyPlanned      = "planned"
	KeyMoveResults  = "moveResults"
	KeyError        = "error"
	KeyNotes        = "notes"
	KeyEnded        = "ended"
	// The predictions' range and the reachable target.
	KeyCOVPredictedLow  = "covPredictedLow"
	KeyCOVPredictedHigh = "covPredictedHigh"
	KeyCOVFloor         = "covFloor"
	KeyReachableMoves   = "reachableMoves"
	KeyGoal             = "goal"
	KeyFloorBinds       = "floorBinds"
	KeySamples          = "samples"
)

// Report is what one invocation decided and did for one cluster.
type Report struct {
	Cluster              string `json:"cluster,omitempty"`
	ContainerInstanceARN string `json:"containerInstanceArn,omitempty"`
	EC2InstanceID        string `json:"ec2InstanceId,omitempty"`
	Trigger              string `json:"trigger,omitempty"`
	plan.Decision
	// Run is what the chosen strategy did (dry run: would do, as predicted).
	Run    plan.Outcome `json:"run"`
	DryRun bool         `json:"dryRun"`
	Swept  []string     `json:"swept,omitempty"` // instances an earlier run left DRAINING, reactivated
	// SweptMoves says what the sweep did to services a move an earlier run did not
	// finish left with the surge marker.
	SweptMoves []string   `json:"sweptMoves,omitempty"`
	Steps      []act.Step `json:"steps,omitempty"`
	Notes      []string   `json:"notes,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// emit writes the decision record and its metrics.
func (h *Handler) emit(ctx context.Context, r Report) {
	attrs := []any{
		slog.String(KeyCluster, r.Cluster),
		slog.String(KeyInstanceARN, r.ContainerInstanceARN),
		slog.String(KeyEC2ID, r.EC2InstanceID),
		slog.String(KeyDecision, string(r.Strategy)),
		slog.String(KeyReason, r.Reason),
		slog.Float64(KeyCOVBefore, r.COVBefore),
		slog.Float64(KeyCOVPredicted, r.COVPredicted),
		slog.Any(KeyServices, nonNil(r.Run.Services)),
		slog.Any(KeyInstances, nonNil(r.Run.Instances)),
		slog.Bool(KeyDryRun, r.DryRun),
		slog.String(KeyTrigger, r.Trigger),
		slog.Int(KeyMinMoves, r.MinMoves),
		slog.Float64(KeyCOVPredictedLow, r.COVPredictedLow),
		slog.Float64(KeyCOVPredictedHigh, r.COVPredictedHigh),
		slog.Float64(KeyCOVFloor, r.COVFloor),
		slog.Int(KeyReachableMoves, r.ReachableMoves),
		slog.Float64(KeyGoal, r.Goal),
		slog.Bool(KeyFloorBinds, r.FloorBinds),
		slog.Int(KeySamples, r.Samples),
		slog.Any(KeyPredictions, r.Predictions),
		slog.Any(KeySkipped, r.Skipped),
	}
	if r.Run.Ended != "" {
		attrs = append(attrs, slog.String(KeyEnded, r.Run.Ended))
	}
	if len(r.Steps) > 0 {
		attrs = append(attrs, slog.Any(KeySteps, r.Steps))
	}
	if len(r.Swept) > 0 {
		attrs = append(attrs, slog.Any(KeySwept, r.Swept))
	}
	if len(r.SweptMoves) > 0 {
		attrs = append(attrs, slog.Any(KeySweptMoves, r.SweptMoves))
	}
	if len(r.Run.Planned) > 0 {
		attrs = append(attrs, slog.Any(KeyPlanned, r.Run.Planned))
	}
	if len(r.Run.Results) > 0 {
		attrs = append(attrs, slog.Any(KeyMoveResults, r.Run.Results))
	}
	if len(r.Notes) > 0 {
		attrs = append(attrs, slog.Any(KeyNotes, r.Notes))
	}
	level := slog.LevelInfo
	if r.Error != "" {
		level = slog.LevelError
		attrs = append(attrs, slog.String(KeyError, r.Error))
	}
	h.log.Log(ctx, level, "decision", attrs...)
	h.writeMetrics(r)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeMetrics writes the decision's CloudWatch metrics in the embedded metric format:
// one JSON object on its own line in the function's log stream, which CloudWatch turns
// into metrics without an API call (docs/operations.md, "Observability").
func (h *Handler) writeMetrics(r Report) {
	if r.Cluster == "" {
		return
	}
	restarts := 0
	if r.Chosen != nil {
		restarts = r.Chosen.Restarts
	}
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": h.clock.Now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  MetricsNamespace,
				"Dimensions": [][]string{{"Cluster", "Decision"}, {"Cluster"}},
				"Metrics": []any{
					map[string]string{"Name": "Decisions", "Unit": "Count"},
					map[string]string{"Name": "TasksRestarted", "Unit": "Count"},
					map[string]string{"Name": "InstancesDrained", "Unit": "Count"},
					map[string]string{"Name": "COV", "Unit": "Percent"},
				},
			}},
		},
		"Cluster":          r.Cluster,
		"Decision":         r.Strategy,
		"Decisions":        1,
		"TasksRestarted":   restarts,
		"InstancesDrained": len(r.Run.Instances),
		"COV":              r.COVBefore,
		"DryRun":           r.DryRun,
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	_, _ = h.metrics.Write(append(b, '\n'))
}

// MetricsNamespace is the CloudWatch namespace of the metrics.
const MetricsNamespace = "ECSRebalancer"
