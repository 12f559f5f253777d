// Package replay runs the real handler against a simulated cluster loaded from a
// snapshot, one recorded event after another on the virtual clock (README, "See it work").
package replay

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/rebalance"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// ExitBadInput is the exit status for bad input.
const ExitBadInput = 2

// settleLimit bounds how long the cluster runs on after each event.
const settleLimit = time.Hour

// Result is the outcome of one event (the -json object).
type Result struct {
	Event       string    `json:"event"`
	DeliveredAt time.Time `json:"deliveredAt"`
	Trigger     string    `json:"trigger,omitempty"`
	// Notes are what the function's read of the cluster had to assume (an instance
	// type with no known interface limit, say), as it logs them.
	Notes            []string        `json:"notes,omitempty"`
	Decision         config.Strategy `json:"decision"`
	Reason           string          `json:"reason"`
	DryRun           bool            `json:"dryRun"`
	COVBefore        float64         `json:"covBefore"`
	COVPredicted     float64         `json:"covPredicted"`
	PredictedCOVLow  float64         `json:"predictedCovLow"`
	PredictedCOVHigh float64         `json:"predictedCovHigh"`
	COVAfter         float64         `json:"covAfter"`
	// The reachable target (cluster.Reach): its COV, the moves to it before, and
	// the settled cluster's distance to its own.
	COVFloor            float64        `json:"covFloor"`
	ReachableMoves      int            `json:"reachableMoves"`
	ReachableMovesAfter int            `json:"reachableMovesAfter"`
	Goal                float64        `json:"goal"`
	DistributionBefore  map[string]int `json:"distributionBefore"`
	DistributionAfter   map[string]int `json:"distributionAfter"`
	// What the rebalancer did: empty in dry run, where Planned says what it would do.
	ServicesRedeployed []string `json:"servicesRedeployed"`
	// TasksMoved is what a move did per service.
	TasksMoved       []plan.MoveResult `json:"tasksMoved,omitempty"`
	InstancesDrained []string          `json:"instancesDrained"`
	// DrainRounds are the instances of each drain round.
	DrainRounds [][]string `json:"drainRounds,omitempty"`
	// Planned is, in dry run, what the rebalancer would have done.
	Planned          *Planned          `json:"planned,omitempty"`
	TasksStarted     int               `json:"tasksStarted"`
	TasksStopped     int               `json:"tasksStopped"`
	MinMoves         int               `json:"minMoves"`
	APICalls         map[string]int    `json:"apiCalls"`
	MutatingCalls    int               `json:"mutatingCalls"`
	BelowMinHealthy  int               `json:"belowMinHealthy"`
	StatusAfter      map[string]string `json:"statusAfter"`
	SimulatedSeconds float64           `json:"simulatedSeconds"`
	// Seed is the simulated world's: its ties and readings, never the predictions'.
	Seed            uint64              `json:"seed"`
	Predictions     []plan.Prediction   `json:"predictions,omitempty"`
	SkippedServices []plan.Skip         `json:"skippedServices,omitempty"`
	Stalled         []string            `json:"stalledServices,omitempty"`
	Error           string              `json:"error,omitempty"`
	order           []*cluster.Instance // instances in registration order, for the report
	zones           map[string]string   // EC2 ID -> zone
	report          rebalance.Report
}

// Planned is what a dry run would have done.
type Planned struct {
	ServicesRedeployed []string          `json:"servicesRedeployed,omitempty"`
	InstancesDrained   []string          `json:"instancesDrained,omitempty"`
	DrainRounds        [][]string        `json:"drainRounds,omitempty"`
	TasksMoved         []plan.MoveResult `json:"tasksMoved,omitempty"`
}

// Main runs the command: args without the program name. It returns the exit status.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	snapPath := fs.String("cluster", "", "cluster snapshot (docs/simulator.md, Snapshots)")
	asJSON := fs.Bool("json", false, "print one JSON object per event")
	seed := fs.Int64("seed", -1, "the simulated world's seed (default: the snapshot's simulation.seed)")
	like := fs.String("add-instance", "", "what-if: a new empty instance shaped like this one (an EC2 instance ID, or a zone) joins at the snapshot's time")
	scheduled := fs.Bool("scheduled", false, "what-if: the schedule fires at the snapshot's time")
	emf := fs.Bool("emf", false, "print the function's own output instead: its log lines (actions, the decision record) and the metric lines")
	sweep := fs.String("sweep", "", "SETTING=V1,V2,...: one line per value (decision, tasks stopped, COV before and after)")
	after := fs.String("o", "", "write the settled cluster to this file as a snapshot, to replay further what-ifs on it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: replay -cluster SNAPSHOT.json [-json|-emf] [-seed N] [-add-instance ID|ZONE] [-scheduled] [-sweep SETTING=V1,V2,...] [-o AFTER.json] [EVENT.json...]")
		fmt.Fprintln(stderr, "Configuration comes from the same environment variables as the Lambda (STRATEGY, COV_PERCENT, DRY_RUN, ...).")
		fs.PrintDefaults()
	}
	// Flags may come after the event files too (replay -cluster S E -json).
	var files []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return 0
		} else if err != nil {
			return ExitBadInput
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		files, args = append(files, args[0]), args[1:]
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "replay: "+format+"\n", a...)
		return ExitBadInput
	}
	if *snapPath == "" || len(files) == 0 && *like == "" && !*scheduled {
		fs.Usage()
		return ExitBadInput
	}
	// prepare reads the configuration (through env), the snapshot and the events, and
	// adds the what-ifs: once, or once per value of a -sweep (the run changes the
	// snapshot's cluster).
	prepare := func(env func(string) string) (config.Config, *snapshot.Snapshot, []Event, error) {
		cfg, err := config.FromEnv(env)
		if err != nil {
			return cfg, nil, nil, fmt.Errorf("configuration: %s", oneLine(err))
		}
		snap, err := snapshot.Load(*snapPath)
		if err != nil {
			return cfg, nil, nil, errors.New(oneLine(err))
		}
		events, err := loadEvents(files, snap.Cluster)
		if err != nil {
			return cfg, nil, nil, errors.New(oneLine(err))
		}
		// The what-ifs happen at the snapshot's time (else the first event's, else
		// now), before the recorded events.
		at := snap.Simulation.Now
		if at.IsZero() && (*like != "" || *scheduled) {
			at = time.Now().UTC().Truncate(time.Second)
			if len(events) > 0 {
				at = events[0].Time
			}
			snap.Simulation.Now = at
		}
		var whatIf []Event
		if *like != "" {
			ev, err := addInstanceLike(snap.Cluster, *like, at)
			if err != nil {
				return cfg, nil, nil, err
			}
			whatIf = append(whatIf, ev)
		}
		if *scheduled {
			whatIf = append(whatIf, scheduleNow(snap.Cluster, at))
		}
		events = append(whatIf, events...)
		for _, c := range cfg.Clusters {
			if c != snap.Cluster.Name && c != snap.Cluster.ARN {
				return cfg, nil, nil, fmt.Errorf("CLUSTERS names %s, but the snapshot holds only cluster %s: the replay simulates that one (unset CLUSTERS, or capture %s with the snapshot command)", c, snap.Cluster.Name, c)
			}
		}
		if len(cfg.Clusters) == 0 {
			// The simulated cluster is the only one there is: other clusters' events
			// are foreign.
			cfg.Clusters = []string{snap.Cluster.Name}
		}
		if *seed >= 0 {
			snap.Simulation.Seed = *seed
		}
		return cfg, snap, events, nil
	}

	if *sweep != "" {
		name, values, ok := strings.Cut(*sweep, "=")
		if !ok || !slices.Contains(config.Names(), name) || values == "" {
			return fail("-sweep %q: want SETTING=V1,V2,... with one of %s", *sweep, strings.Join(config.Names(), ", "))
		}
		type line struct {
			value string
			res   []Result
		}
		var lines []line
		for v := range strings.SplitSeq(values, ",") {
			v = strings.TrimSpace(v)
			cfg, snap, events, err := prepare(func(k string) string {
				if k == name {
					return v
				}
				return getenv(k)
			})
			if err != nil {
				return fail("%s=%s: %s", name, v, err)
			}
			lines = append(lines, line{v, RunTo(cfg, snap, events, nil)})
		}
		for _, l := range lines {
			for _, r := range l.res {
				restarts := r.TasksStopped
				fmt.Fprintf(stdout, "%s=%-8s %-22s %4d tasks stopped, COV %6.2f%% -> %6.2f%%  (%s)\n", name, l.value, r.Decision, restarts, r.COVBefore, r.COVAfter, r.Event)
			}
		}
		return 0
	}

	cfg, snap, events, err := prepare(getenv)
	if err != nil {
		return fail("%s", err)
	}
	var emfOut io.Writer
	if *emf {
		emfOut = stdout
	}
	results := RunTo(cfg, snap, events, emfOut)
	for _, r := range results {
		switch {
		case *emf:
		case *asJSON:
			b, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(b))
		default:
			WriteText(stdout, r, cfg)
		}
	}
	if *after != "" {
		if err := writeAfter(*after, snap, results); err != nil {
			return fail("-o %s: %s", *after, err)
		}
	}
	return 0
}

// writeAfter writes the settled cluster (RunTo leaves it in snap.Cluster) as a
// snapshot whose clock starts where the replay's ended, with the same settings.
func writeAfter(path string, snap *snapshot.Snapshot, results []Result) error {
	sim := snap.Simulation
	if n := len(results); n > 0 {
		last := results[n-1]
		sim.Now = last.DeliveredAt.Add(time.Duration(last.SimulatedSeconds * float64(time.Second))).UTC()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := snapshot.Encode(f, snap.Cluster, sim); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// Event is a recorded event file.
type Event struct {
	Path string
	Raw  []byte
	Time time.Time
	// Cluster is the cluster a container instance event is for ("" for others).
	Cluster string
}

// loadEvents reads every event before anything runs, so bad input fails before any
// output: a missing file, invalid JSON, or a container instance event of the
// snapshot's cluster for an instance the snapshot does not have.
func loadEvents(paths []string, c *cluster.Cluster) ([]Event, error) {
	var out []Event
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("%s: invalid JSON", p)
		}
		ev, err := event.Decode(raw)
		switch {
		case errors.Is(err, event.ErrMalformed) && (ev.Source == "" || ev.DetailType == ""):
			// Not an EventBridge event at all (an array, a snapshot passed as the
			// event): a usage error here, where the Lambda would log and skip it.
			return nil, fmt.Errorf("%s: not an EventBridge event (a JSON object with source, detail-type and detail)", p)
		case err != nil && !errors.Is(err, event.ErrMalformed):
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if ev.Instance != nil && (ev.Instance.ClusterARN == c.ARN || cluster.NameOf(ev.Instance.ClusterARN) == c.Name) &&
			c.Instance(ev.Instance.ContainerInstanceARN) == nil {
			return nil, fmt.Errorf("%s: container instance %s is not in the snapshot", p, ev.Instance.ContainerInstanceARN)
		}
		e := Event{Path: p, Raw: raw, Time: ev.Time}
		if ev.Instance != nil {
			e.Cluster = cluster.NameOf(ev.Instance.ClusterARN)
		}
		out = append(out, e)
	}
	return out, nil
}

// Run replays the events against the snapshot's cluster on one virtual clock, which
// starts at the snapshot's simulation.now or else the first event's time; each event
// is delivered at the later of its time and the clock, and after the handler returns
// the cluster runs on until it settles (at most an hour).
func Run(cfg config.Config, snap *snapshot.Snapshot, events []Event) []Result {
	return RunTo(cfg, snap, events, nil)
}

// RunTo is Run that also writes, when emf is not nil, what the function itself would
// write to its log stream: the step lines, the decision record and the embedded
// metric format lines.
func RunTo(cfg config.Config, snap *snapshot.Snapshot, events []Event, emf io.Writer) []Result {
	start := snap.Simulation.Now
	if start.IsZero() && len(events) > 0 {
		start = events[0].Time
	}
	opts := snap.Simulation.Options()
	opts.Now = start
	s := sim.New(snap.Cluster, opts)
	h := rebalance.New(rebalance.Options{
		Config: cfg, API: s, Clock: s, TaskStart: opts.TaskStart,
		// The function's own log format (timestamp, message), as lambdacontext writes it.
		Log: slog.New(slog.NewJSONHandler(cmp.Or(emf, io.Discard), &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr})), Metrics: emf,
	})

	var results []Result
	for _, ev := range events {
		if ev.Time.After(s.Now()) {
			s.Advance(ev.Time.Sub(s.Now()))
		}
		r := Result{Event: ev.Path, DeliveredAt: s.Now(), DryRun: cfg.DryRun, Seed: opts.Seed, zones: map[string]string{}}
		statsBefore := s.Stats()
		var movable func(*cluster.Service) bool
		s.View(func(c *cluster.Cluster) {
			counts := c.Distribution()
			r.DistributionBefore = distribution(counts)
			r.COVBefore = cluster.Round2(cluster.COV(cluster.Counts(counts)))
			r.MinMoves = cluster.MinMoves(cluster.Counts(counts))
			eligible, _ := plan.Eligibility(c, cfg.OptOutTag)
			movable = func(s *cluster.Service) bool { return eligible[s.Name] != nil }
			reach := c.Reachable(movable)
			r.COVFloor, r.ReachableMoves = cluster.Round2(reach.COVFloor), reach.Moves
		})

		ctx, cancel := s.WithTimeout(context.Background(), cfg.FunctionTimeout())
		reports, err := h.Process(ctx, ev.Raw)
		cancel()
		if err != nil {
			r.Error = err.Error()
		}
		settled := s.Settle(settleLimit)
		r.Stalled = settled.Stalled

		rep := reports[0]
		r.report = rep
		r.Trigger, r.Decision, r.Reason, r.Notes = rep.Trigger, rep.Strategy, rep.Reason, rep.Notes
		if ev.Cluster != "" && ev.Cluster != snap.Cluster.Name && r.Decision == plan.StrategySkip {
			// The Lambda would say CLUSTERS; here the real cause is the snapshot.
			r.Reason = fmt.Sprintf("ignored: the event is for cluster %s, and the snapshot holds %s, the only cluster the replay simulates (capture %s with the snapshot command to replay its events)",
				ev.Cluster, snap.Cluster.Name, ev.Cluster)
		}
		r.COVPredicted, r.Predictions, r.SkippedServices = rep.COVPredicted, rep.Predictions, rep.Skipped
		r.PredictedCOVLow, r.PredictedCOVHigh, r.Goal = rep.COVPredictedLow, rep.COVPredictedHigh, rep.Goal
		if rep.COVFloor != 0 || rep.ReachableMoves != 0 {
			// The planner's floor also counts what deployments in flight will move.
			r.COVFloor = rep.COVFloor
		}
		if rep.Error != "" && r.Error == "" {
			r.Error = rep.Error
		}
		r.ServicesRedeployed, r.InstancesDrained, r.DrainRounds = nonNil(rep.Run.Services), nonNil(rep.Run.Instances), rep.Run.DrainRounds
		if len(rep.Run.Results) > 0 {
			r.ServicesRedeployed, r.TasksMoved = []string{}, rep.Run.Results
		}
		if cfg.DryRun && rep.Strategy != plan.StrategySkip {
			// Nothing happened: what the prediction's run did is what it would do.
			r.Planned = &Planned{ServicesRedeployed: r.ServicesRedeployed, InstancesDrained: r.InstancesDrained, DrainRounds: r.DrainRounds, TasksMoved: r.TasksMoved}
			r.ServicesRedeployed, r.InstancesDrained, r.DrainRounds, r.TasksMoved = []string{}, []string{}, nil, nil
		}
		if rep.Strategy == plan.StrategySkip {
			r.COVPredicted, r.PredictedCOVLow, r.PredictedCOVHigh = r.COVBefore, r.COVBefore, r.COVBefore
		}
		if r.Goal == 0 {
			r.Goal = cfg.COVPercent
		}

		st := s.Stats()
		r.TasksStarted = st.TasksStarted - statsBefore.TasksStarted
		r.TasksStopped = st.TasksStopped - statsBefore.TasksStopped
		r.MutatingCalls = st.MutatingCalls - statsBefore.MutatingCalls
		r.BelowMinHealthy = st.BelowMinHealthy - statsBefore.BelowMinHealthy
		r.APICalls = map[string]int{}
		for k, v := range st.Calls {
			if d := v - statsBefore.Calls[k]; d > 0 {
				r.APICalls[k] = d
			}
		}
		r.SimulatedSeconds = s.Now().Sub(r.DeliveredAt).Seconds()
		s.View(func(c *cluster.Cluster) {
			counts := c.Distribution()
			r.DistributionAfter = distribution(counts)
			r.COVAfter = cluster.Round2(cluster.COV(cluster.Counts(counts)))
			r.ReachableMovesAfter = c.Reachable(movable).Moves
			r.StatusAfter = map[string]string{}
			for _, i := range c.Instances() {
				r.StatusAfter[i.EC2InstanceID] = i.Status
				r.zones[i.EC2InstanceID] = i.Zone
				r.order = append(r.order, i)
			}
		})
		results = append(results, r)
	}
	return results
}

func distribution(d []cluster.InstanceCount) map[string]int {
	out := map[string]int{}
	for _, e := range d {
		out[e.Instance.EC2InstanceID] = e.Count
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
