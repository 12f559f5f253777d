package plan

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
)

// StrategySkip is the decision to do nothing; every other decision is the strategy to run.
const StrategySkip config.Strategy = "skip"

// Outcome is what executing a strategy did.
type Outcome struct {
	Services  []string `json:"services,omitempty"`  // redeployed
	Instances []string `json:"instances,omitempty"` // drained, in order (EC2 instance IDs)
	Rounds    int      `json:"rounds,omitempty"`
	// DrainRounds are the instances each drain round drained.
	DrainRounds [][]string `json:"drainRounds,omitempty"`
	// Planned is what the move strategy set out to move; Results what it did, per
	// service.
	Planned []Move       `json:"planned,omitempty"`
	Results []MoveResult `json:"moveResults,omitempty"`
	Ended   string       `json:"ended,omitempty"` // why the drain loop stopped
}

// RedeployTargets are the services a targeted force-new-deployment redeploys: the
// eligible, imbalanced ones, largest imbalance first, at most MAX_SERVICES_PER_RUN.
func RedeployTargets(c *cluster.Cluster, cfg config.Config) []string {
	eligible, _ := Eligibility(c, cfg.OptOutTag)
	var out []string
	for _, im := range Imbalances(c, eligible) {
		if len(out) == cfg.MaxServicesPerRun {
			break
		}
		out = append(out, im.Service)
	}
	return out
}

// Prediction is what a strategy is expected to do: its runs on every sample of what
// ECS leaves unknown, each measured against doing nothing on the same sample. Figures
// are medians with a range; the choice reads the pessimistic end.
type Prediction struct {
	Strategy config.Strategy `json:"strategy"`
	Possible bool            `json:"possible"`
	// Reason explains an impossible strategy, or how a run ended.
	Reason string `json:"reason,omitempty"`
	// Run is what the strategy did on the first sample (the services a redeployment
	// names are the same on every sample; the instances a drain picks may differ).
	Run     Outcome `json:"run"`
	Samples int     `json:"samples,omitempty"`
	// COVAfter is the median COV once the cluster settled; COVLow-COVHigh the range a
	// world's outcome is expected in (Spread).
	COVAfter float64 `json:"covAfter"`
	COVLow   float64 `json:"covLow"`
	COVHigh  float64 `json:"covHigh"`
	// COVCreditedHigh is the pessimistic COV credited to the strategy alone: today's
	// COV less the smallest improvement it made over doing nothing on a sample.
	COVCreditedHigh float64 `json:"covCreditedHigh"`
	// Restarts are the tasks it stopped beyond those doing nothing stops (median, and
	// the most on any sample).
	Restarts     int `json:"tasksRestarted"`
	RestartsHigh int `json:"tasksRestartedHigh"`
	// Moves is the median distance to the reachable target it closed beyond doing
	// nothing (cluster.Reach.Moves before less after).
	Moves int `json:"moves"`
	// Reaches is the pessimistic reading: COVHigh is at or below the goal.
	Reaches bool    `json:"reachesTarget"`
	Seconds float64 `json:"simulatedSeconds"`
}

// Spread returns the median of values and the range a further independent draw is
// expected in: the samples' lowest and highest, each pushed out by the mean gap
// between neighbouring samples ((max-min)/(n-1)). The bare min-max of n samples holds
// a new draw only (n-1)/(n+1) of the time (7/9 for 8); the widened range is the
// unbiased estimate of where the distribution ends, for a uniform one exactly.
func Spread(values []float64) (median, low, high float64) {
	if len(values) == 0 {
		return 0, 0, 0
	}
	v := slices.Clone(values)
	slices.Sort(v)
	n := len(v)
	median = v[n/2]
	if n%2 == 0 {
		median = (v[n/2-1] + v[n/2]) / 2
	}
	low, high = v[0], v[n-1]
	if n > 1 {
		gap := (high - low) / float64(n-1)
		low, high = max(0, low-gap), high+gap
	}
	return median, low, high
}

// MinGapClosed is the share of the distance between the current COV and the goal a
// strategy that does not reach the goal must close to be worth its restarts.
const MinGapClosed = 0.25

// FloorMargin is how far above the reachable floor (cluster.Reach.COVFloor) the goal
// sits when the floor is above COV_PERCENT: the heuristic floor is not exact, and the
// last tenths of a point are not worth restarts.
const FloorMargin = 0.5

// Goal is the COV the planner aims at: COV_PERCENT, or the reachable floor plus
// FloorMargin when the services' own placement does not allow COV_PERCENT. floorBinds
// reports the second case.
func Goal(gate, covFloor float64) (goal float64, floorBinds bool) {
	if covFloor > gate {
		return cluster.Round2(covFloor + FloorMargin), true
	}
	return gate, false
}

// Choose picks among the possible predictions (auto), reading each at its pessimistic
// end: the one whose COVHigh reaches the goal with the fewest restarts (the most on
// any sample); if none reaches it, the one with the lowest COVHigh, provided what it
// alone changes (COVCreditedHigh) closes at least MinGapClosed of the gap; ties go to
// the earlier prediction (force-new-deployment is listed first). It returns nil and
// the reason when no strategy helps.
func Choose(covBefore, goal float64, preds []Prediction) (*Prediction, string) {
	var best *Prediction
	better := func(p, than *Prediction) bool {
		if p.Reaches != than.Reaches {
			return p.Reaches
		}
		if !p.Reaches && p.COVHigh != than.COVHigh {
			return p.COVHigh < than.COVHigh
		}
		return p.RestartsHigh < than.RestartsHigh
	}
	enough := cluster.Round2(covBefore - MinGapClosed*(covBefore-goal))
	var why []string
	for k := range preds {
		p := &preds[k]
		switch {
		case !p.Possible:
			why = append(why, string(p.Strategy)+": "+p.Reason)
			continue
		case p.RestartsHigh == 0:
			why = append(why, fmt.Sprintf("%s: restarts no task beyond what the cluster does by itself", p.Strategy))
			continue
		case p.COVCreditedHigh > enough:
			why = append(why, fmt.Sprintf("%s: predicted COV %s after %d restarts, %.2f%% of it its own doing at worst (worth acting at %.2f%% or below)",
				p.Strategy, p.COVText(), p.Restarts, p.COVCreditedHigh, enough))
			continue
		}
		if best == nil || better(p, best) {
			best = p
		}
	}
	if best == nil {
		return nil, fmt.Sprintf("no strategy helps enough from %.2f%%: %s", covBefore, strings.Join(why, "; "))
	}
	reason := fmt.Sprintf("%s predicted COV %.2f%% -> %s with %d restarts", best.Strategy, covBefore, best.COVText(), best.Restarts)
	if !best.Reaches {
		reason += " (above the goal, but the largest improvement)"
	}
	return best, reason
}

// COVText is the predicted COV as reports print it: the median and the range.
func (p *Prediction) COVText() string {
	if p.COVLow == p.COVHigh {
		return fmt.Sprintf("%.2f%%", p.COVAfter)
	}
	return fmt.Sprintf("%.2f%% (%.2f-%.2f%%)", p.COVAfter, p.COVLow, p.COVHigh)
}

// Decision is the planner's answer.
type Decision struct {
	// Strategy is the strategy to run, or StrategySkip.
	Strategy        config.Strategy `json:"decision"`
	Reason          string          `json:"reason"`
	COVBefore       float64         `json:"covBefore"`
	COVPredicted    float64         `json:"covPredicted"`
	COVPredictedLow float64         `json:"covPredictedLow"`
	// COVPredictedHigh is the pessimistic end the choice read.
	COVPredictedHigh float64 `json:"covPredictedHigh"`
	MinMoves         int     `json:"minMoves"`
	// COVFloor and ReachableMoves are the reachable target (cluster.Reach); Goal is
	// what the planner aimed at, FloorBinds whether the floor set it.
	COVFloor       float64 `json:"covFloor"`
	ReachableMoves int     `json:"reachableMoves"`
	Goal           float64 `json:"goal"`
	FloorBinds     bool    `json:"floorBinds,omitempty"`
	// Samples is how many samples each prediction ran on; SampleSeed the first of
	// their seeds (derived from the input, so a replay repeats them).
	Samples     int          `json:"samples,omitempty"`
	SampleSeed  uint64       `json:"sampleSeed,omitempty"`
	Predictions []Prediction `json:"predictions,omitempty"`
	Skipped     []Skip       `json:"skippedServices,omitempty"`
	Chosen      *Prediction  `json:"-"`
}

// DrainImpossible returns why no drain round can start on c, or "".
func DrainImpossible(c *cluster.Cluster, cfg config.Config, now time.Time) string {
	if cfg.DrainMaxInstances == 0 {
		return "DRAIN_MAX_INSTANCES is 0"
	}
	eligible, _ := Eligibility(c, cfg.OptOutTag)
	picked, skipped := DrainCandidates(c.InstanceCounts(), Blockers(c, eligible), now, cfg.JoinWindow, cfg.DrainMaxInstances)
	if len(picked) > 0 {
		return ""
	}
	var parts []string
	for _, s := range skipped {
		parts = append(parts, s.Name+": "+s.Reason)
	}
	return "no instance can be drained (" + strings.Join(parts, "; ") + ")"
}

// GateReason explains a skip below the gate, with the value and the gate, and for
// large clusters how small a lone joiner's COV is (docs/decisions.md, "Measuring balance").
func GateReason(cov, gate float64, n int) string {
	r := fmt.Sprintf("COV %.2f%% is at or below COV_PERCENT %.4g%%", cov, gate)
	if n >= 2 {
		if joiner := math.Sqrt(float64(n)) / float64(n-1) * 100; joiner <= gate {
			r += fmt.Sprintf("; with %d instances one empty joiner only reaches %.2f%%: lower COV_PERCENT for a cluster this size", n, joiner)
		}
	}
	return r
}
