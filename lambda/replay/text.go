package replay

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

const barWidth = 24

// manyInstances is where one bar per instance stops being readable: above it the
// report shows how many instances run how many tasks, and the instances that changed
// most.
const manyInstances = 40

// WriteText prints a result for a person: the trigger, the decision and why, the
// predictions, the distribution before and after as bars, COV, tasks restarted next to
// minMoves, and the ECS calls.
func WriteText(w io.Writer, r Result, cfg config.Config) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	mode := ""
	if r.DryRun {
		mode = "  (DRY RUN: no mutating call would reach ECS)"
	}
	p("event      %s, delivered %s%s", r.Event, r.DeliveredAt.UTC().Format(time.RFC3339), mode)
	if r.Trigger != "" {
		p("trigger    %s", r.Trigger)
	}
	for _, n := range r.Notes {
		p("note       %s", n)
	}
	p("decision   %s: %s", strings.ToUpper(string(r.Decision)), r.Reason)
	for _, pr := range r.Predictions {
		p("  %s", predictionLine(pr, cfg))
	}
	if len(r.SkippedServices) > 0 {
		var parts []string
		for _, s := range r.SkippedServices {
			parts = append(parts, s.Name+" ("+s.Reason+")")
		}
		p("untouched  %s", strings.Join(parts, ", "))
	}
	verb := map[string]string{"redeploy": "redeployed", "move": "moved", "drain": "drained"}
	redeployed, moved, drained, rounds := r.ServicesRedeployed, r.TasksMoved, r.InstancesDrained, r.DrainRounds
	if r.Planned != nil {
		for k := range verb {
			verb[k] = "would " + k
		}
		redeployed, moved, drained, rounds = r.Planned.ServicesRedeployed, r.Planned.TasksMoved, r.Planned.InstancesDrained, r.Planned.DrainRounds
	}
	if len(redeployed) > 0 {
		p("%s %s", label(verb["redeploy"]), strings.Join(redeployed, ", "))
	}
	for _, m := range moved {
		line := fmt.Sprintf("%s %s: %d task(s), start first (%d started, %d given back)", label(verb["move"]), m.Service, m.Moved, m.Started, m.Returned)
		if m.Ended != "" {
			line += "; " + m.Ended
		}
		p("%s", line)
	}
	switch {
	case len(rounds) > 1:
		var parts []string
		for k, ids := range rounds {
			parts = append(parts, fmt.Sprintf("round %d: %s", k+1, strings.Join(ids, ", ")))
		}
		p("%s %s", label(verb["drain"]), strings.Join(parts, "; "))
	case len(drained) > 0:
		p("%s %s", label(verb["drain"]), strings.Join(drained, ", "))
	}
	p("")
	scale := 1
	for _, v := range r.DistributionBefore {
		scale = max(scale, v)
	}
	for _, v := range r.DistributionAfter {
		scale = max(scale, v)
	}
	if len(r.order) > manyInstances {
		writeHistogram(p, r)
	} else {
		p("%-21s %-11s %-*s %s", "instance", "zone", barWidth+4, "before", "after")
		for _, i := range r.order {
			id := i.EC2InstanceID
			before, okB := r.DistributionBefore[id]
			after, okA := r.DistributionAfter[id]
			status := ""
			if s := r.StatusAfter[id]; s != "ACTIVE" {
				status = "  " + s
			}
			p("%-21s %-11s %s %s%s", id, r.zones[id], bar(before, okB, scale), bar(after, okA, scale), status)
		}
	}
	p("")
	predicted := fmt.Sprintf("%.2f%%", r.COVPredicted)
	if r.PredictedCOVLow != r.PredictedCOVHigh {
		predicted += fmt.Sprintf(" (%.2f-%.2f%%)", r.PredictedCOVLow, r.PredictedCOVHigh)
	}
	p("COV        %.2f%% -> %.2f%%  (gate COV_PERCENT %.4g%%; predicted %s, this world: %.2f%%)", r.COVBefore, r.COVAfter, cfg.COVPercent, predicted, r.COVAfter)
	goal := ""
	if r.Goal != cfg.COVPercent {
		goal = fmt.Sprintf("; goal %.2f%%", r.Goal)
	}
	p("reachable  floor %.2f%% (the lowest the services' own placement allows)%s; %d moves away before, %d after", r.COVFloor, goal, r.ReachableMoves, r.ReachableMovesAfter)
	own := ""
	if r.Decision == plan.StrategySkip && r.TasksStarted+r.TasksStopped > 0 {
		own = "; all by the cluster itself (deployments already in flight): the rebalancer did nothing"
	}
	p("tasks      %d started, %d stopped; minMoves %d (the fewest moves that balance it, ignoring placement)%s", r.TasksStarted, r.TasksStopped, r.MinMoves, own)
	total := 0
	var calls []string
	for _, k := range sortedKeys(r.APICalls) {
		total += r.APICalls[k]
		calls = append(calls, fmt.Sprintf("%s %d", k, r.APICalls[k]))
	}
	p("ECS calls  %d (%d mutating): %s", total, r.MutatingCalls, strings.Join(calls, ", "))
	p("simulated  %s until the cluster settled (world seed %d); %d time(s) a service fell below its minimum healthy percent",
		time.Duration(r.SimulatedSeconds*float64(time.Second)).Round(time.Second), r.Seed, r.BelowMinHealthy)
	if len(r.Stalled) > 0 {
		p("stalled    %s (work left that ECS cannot do)", strings.Join(r.Stalled, ", "))
	}
	if r.Error != "" {
		p("error      %s", r.Error)
	}
	p("")
}

func predictionLine(pr plan.Prediction, cfg config.Config) string {
	if !pr.Possible {
		return fmt.Sprintf("%-21s not possible: %s", pr.Strategy, pr.Reason)
	}
	target := "above the goal"
	if pr.Reaches {
		target = "reaches the goal"
	}
	restarts := fmt.Sprintf("%d", pr.Restarts)
	if pr.RestartsHigh != pr.Restarts {
		restarts += fmt.Sprintf(" (up to %d)", pr.RestartsHigh)
	}
	line := fmt.Sprintf("%-21s predicted COV %s (%s), %s tasks restarted, %d moves closer to the reachable target, %s simulated", pr.Strategy, pr.COVText(), target, restarts, pr.Moves,
		time.Duration(pr.Seconds*float64(time.Second)).Round(time.Second))
	if pr.Reason != "" {
		line += "; " + pr.Reason
	}
	return line
}

func bar(n int, ok bool, scale int) string {
	if !ok {
		return fmt.Sprintf("%-*s", barWidth+4, "  -")
	}
	w := n * barWidth / scale
	return fmt.Sprintf("%s%s %3d", strings.Repeat("█", w), strings.Repeat(" ", barWidth-w), n)
}

// label pads a line's label to the report's column (longer ones push it).
func label(s string) string { return fmt.Sprintf("%-10s", s) }

// writeHistogram prints, for a large cluster, how many ACTIVE instances run how many
// tasks before and after (about a dozen bands), then the ten instances whose count
// changed most.
func writeHistogram(p func(string, ...any), r Result) {
	top := 1
	for _, v := range r.DistributionBefore {
		top = max(top, v)
	}
	for _, v := range r.DistributionAfter {
		top = max(top, v)
	}
	width := (top + 12) / 12
	bands := top/width + 1
	before, after := make([]int, bands), make([]int, bands)
	for _, v := range r.DistributionBefore {
		before[v/width]++
	}
	for _, v := range r.DistributionAfter {
		after[v/width]++
	}
	most := 1
	for k := range bands {
		most = max(most, before[k], after[k])
	}
	p("%-21s %-*s %s", "tasks per instance", barWidth+4, "instances before", "instances after")
	for k := range bands {
		band := fmt.Sprintf("%d-%d", k*width, (k+1)*width-1)
		if width == 1 {
			band = fmt.Sprint(k)
		}
		p("%-21s %s %s", band, bar(before[k], true, most), bar(after[k], true, most))
	}
	type change struct {
		id            string
		before, after int
	}
	var changes []change
	for _, i := range r.order {
		id := i.EC2InstanceID
		if b, a := r.DistributionBefore[id], r.DistributionAfter[id]; a != b {
			changes = append(changes, change{id, b, a})
		}
	}
	var down []string
	for _, i := range r.order {
		if st := r.StatusAfter[i.EC2InstanceID]; st != "" && st != "ACTIVE" {
			down = append(down, i.EC2InstanceID+" "+st)
		}
	}
	if len(down) > 0 {
		p("not ACTIVE after: %s", strings.Join(down, ", "))
	}
	if len(changes) == 0 {
		return
	}
	slices.SortStableFunc(changes, func(x, y change) int { return abs(y.after-y.before) - abs(x.after-x.before) })
	p("")
	p("changed most (%d of %d instances changed)", len(changes), len(r.order))
	for _, c := range changes[:min(10, len(changes))] {
		p("%-21s %-11s %3d -> %3d", c.id, r.zones[c.id], c.before, c.after)
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
