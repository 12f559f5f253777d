package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

// Summary is one policy over every scenario. The churn ratio is tasks restarted over
// minMoves, on the scenarios where the policy acted (and minMoves is not zero).
type Summary struct {
	Scenarios               int      `json:"scenarios"`
	Acted                   int      `json:"acted"`
	MedianChurnRatio        *float64 `json:"medianChurnRatio"`
	WorstChurnRatio         *float64 `json:"worstChurnRatio"`
	WorstChurnScenario      string   `json:"worstChurnScenario,omitempty"`
	MeanCOVAfter            float64  `json:"meanCovAfter"`
	ReachedTarget           int      `json:"reachedTarget"` // covAfter at or below COV_PERCENT's default
	TasksRestarted          int      `json:"tasksRestarted"`
	BelowMinHealthy         int      `json:"belowMinHealthy"`
	IneligibleTouched       int      `json:"ineligibleTouched"`
	ForeignDrainReactivated int      `json:"foreignDrainReactivated"`
	MutatingCalls           int      `json:"mutatingCalls"`
	APICalls                int      `json:"apiCalls"`
	Errors                  int      `json:"errors"`

	// Over every scenario in every world seed (the fields above are the first
	// seed's): the runs, the medians of gapClosed (every run: a skip closes nothing)
	// and churnPerMove (runs that restarted something; one that closed no distance
	// counts as infinite), the worst churnPerMove (nil with WorstChurnPerMoveInfinite
	// when some run restarted tasks for no net move), the mean COV after, and how often
	// the goal was reached.
	Runs                      int      `json:"runs"`
	RunsActed                 int      `json:"runsActed"`
	MedianGapClosed           *float64 `json:"medianGapClosed"`
	MedianChurnPerMove        *float64 `json:"medianChurnPerMove"`
	WorstChurnPerMove         *float64 `json:"worstChurnPerMove"`
	WorstChurnPerMoveInfinite bool     `json:"worstChurnPerMoveInfinite,omitempty"`
	WorstChurnPerMoveRun      string   `json:"worstChurnPerMoveRun,omitempty"`
	MeanCOVAfterAllSeeds      float64  `json:"meanCovAfterAllSeeds"`
	ReachedGoal               int      `json:"reachedGoal"`
	// Ours: the share of acted runs whose COV after lay inside the predicted range,
	// and the share of acted runs where the prediction promised the goal and the
	// world missed it.
	Calibration    *float64 `json:"calibration"`
	FalseReach     *float64 `json:"falseReach"`
	Outside        []string `json:"outsideRange,omitempty"`
	FalseReachRuns []string `json:"falseReachRuns,omitempty"`
}

// Report is docs/comparison.json.
type Report struct {
	Policies  []string           `json:"policies"`
	Ours      []string           `json:"ours"` // ecs-rebalancer's strategies; the rest are baselines
	Scenarios []Result           `json:"scenarios"`
	Summary   map[string]Summary `json:"summary"`
}

// Compare is `make compare`: every policy on the scenario family and on the snapshots
// in snapshotsDir with their join events in eventsDir.
func Compare(snapshotsDir, eventsDir string) (Report, error) {
	recorded, err := Snapshots(snapshotsDir, eventsDir)
	if err != nil {
		return Report{}, err
	}
	policies := Policies()
	return NewReport(Run(append(Family(), recorded...), policies), policies), nil
}

// NewReport summarizes the results per policy.
func NewReport(results []Result, policies []Policy) Report {
	r := Report{Scenarios: results, Summary: map[string]Summary{}}
	for _, p := range policies {
		r.Policies = append(r.Policies, p.Name)
		if p.Ours {
			r.Ours = append(r.Ours, p.Name)
		}
		var runs []named
		for _, res := range results {
			runs = append(runs, named{res.Name, res.Policies[p.Name]})
		}
		sum := summarize(runs)
		var all []named
		for _, res := range results {
			for _, sr := range res.Seeds {
				all = append(all, named{fmt.Sprintf("%s seed %d", res.Name, sr.Seed), sr.Policies[p.Name]})
			}
		}
		summarizeSeeds(&sum, all, p.Ours)
		r.Summary[p.Name] = sum
	}
	return r
}

// summarizeSeeds fills the summary's figures over every world seed.
func summarizeSeeds(s *Summary, runs []named, ours bool) {
	s.Runs = len(runs)
	var gaps, churns []float64
	inside, promised, falseReach := 0, 0, 0
	for _, r := range runs {
		m := r.m
		s.MeanCOVAfterAllSeeds += m.COVAfter / float64(len(runs))
		if m.ReachedGoal {
			s.ReachedGoal++
		}
		if m.GapClosed != nil {
			gaps = append(gaps, *m.GapClosed)
		}
		switch {
		case m.NoNetMove:
			churns = append(churns, math.Inf(1))
			if !s.WorstChurnPerMoveInfinite {
				s.WorstChurnPerMoveInfinite, s.WorstChurnPerMove, s.WorstChurnPerMoveRun = true, nil, r.scenario
			}
		case m.ChurnPerMove != nil:
			churns = append(churns, *m.ChurnPerMove)
			if !s.WorstChurnPerMoveInfinite && (s.WorstChurnPerMove == nil || *m.ChurnPerMove > *s.WorstChurnPerMove) {
				s.WorstChurnPerMove, s.WorstChurnPerMoveRun = m.ChurnPerMove, r.scenario
			}
		}
		if !m.Acted {
			continue
		}
		s.RunsActed++
		if m.PredictedLow == nil {
			continue
		}
		if m.InsideRange {
			inside++
		} else {
			s.Outside = append(s.Outside, fmt.Sprintf("%s: %.2f%% outside %.2f-%.2f%%", r.scenario, m.COVAfter, *m.PredictedLow, *m.PredictedHigh))
		}
		if m.PredictedReach {
			promised++
			if !m.ReachedGoal {
				falseReach++
				s.FalseReachRuns = append(s.FalseReachRuns, fmt.Sprintf("%s: %.2f%% above the goal %.2f%%", r.scenario, m.COVAfter, m.Goal))
			}
		}
	}
	s.MeanCOVAfterAllSeeds = round2(s.MeanCOVAfterAllSeeds)
	if len(gaps) > 0 {
		med, _, _ := plan.Spread(gaps)
		s.MedianGapClosed = ptr(round2(med))
	}
	if len(churns) > 0 {
		if m, _, _ := plan.Spread(churns); !math.IsInf(m, 1) {
			s.MedianChurnPerMove = ptr(round2(m))
		}
	}
	if ours && s.RunsActed > 0 {
		s.Calibration = ptr(round2(float64(inside) / float64(s.RunsActed)))
		s.FalseReach = ptr(round2(float64(falseReach) / float64(s.RunsActed)))
	}
}

type named struct {
	scenario string
	m        Metrics
}

func summarize(runs []named) Summary {
	target := config.Default().COVPercent
	s := Summary{Scenarios: len(runs)}
	var ratios []float64
	for _, r := range runs {
		m := r.m
		s.MeanCOVAfter += m.COVAfter / float64(len(runs))
		if m.COVAfter <= target {
			s.ReachedTarget++
		}
		s.TasksRestarted += m.TasksRestarted
		s.BelowMinHealthy += m.BelowMinHealthy
		s.IneligibleTouched += m.IneligibleTouched
		s.ForeignDrainReactivated += m.ForeignDrainReactivated
		s.MutatingCalls += m.MutatingCalls
		s.APICalls += m.APICalls
		if m.Error != "" {
			s.Errors++
		}
		if !m.Acted {
			continue
		}
		s.Acted++
		if m.MinMoves == 0 {
			continue
		}
		ratio := float64(m.TasksRestarted) / float64(m.MinMoves)
		ratios = append(ratios, ratio)
		if s.WorstChurnRatio == nil || ratio > *s.WorstChurnRatio {
			s.WorstChurnRatio, s.WorstChurnScenario = ptr(round2(ratio)), r.scenario
		}
	}
	s.MeanCOVAfter = round2(s.MeanCOVAfter)
	if len(ratios) > 0 {
		slices.Sort(ratios)
		n := len(ratios)
		median := ratios[n/2]
		if n%2 == 0 {
			median = (ratios[n/2-1] + ratios[n/2]) / 2
		}
		s.MedianChurnRatio = ptr(round2(median))
	}
	return s
}

func ptr(v float64) *float64 { return &v }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Write puts comparison.json, comparison.md and the chart it shows into dir.
func (r Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "comparison.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := r.chart(filepath.Join(dir, chartFile)); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if err := r.balanceChart(filepath.Join(dir, balanceChartFile)); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "comparison.md"))
	if err != nil {
		return err
	}
	r.Markdown(f)
	return f.Close()
}

const (
	chartFile        = "comparison-churn.svg"
	balanceChartFile = "comparison-balance.svg"
)

// chart plots tasks restarted against minMoves for every run that acted and restarted
// something, one series per policy, on log scales, with the line of one restart per
// needed move.
func (r Report) chart(path string) error {
	p := plot.New()
	p.Title.Text = "Tasks restarted against the moves needed (minMoves), per run"
	p.X.Label.Text = "minMoves (fewest task moves to balance)"
	p.Y.Label.Text = "tasks restarted"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true

	// One series per policy; policies that made exactly the same runs (auto and the
	// strategy it always chose) share one, named after both, so neither hides the other.
	type series struct {
		names []string
		xys   plotter.XYs
	}
	var all []*series
	lo, hi := math.Inf(1), 0.0
	for _, name := range r.Policies {
		var xys plotter.XYs
		for _, res := range r.Scenarios {
			m := res.Policies[name]
			if m.Acted && m.TasksRestarted > 0 && m.MinMoves > 0 {
				xys = append(xys, plotter.XY{X: float64(m.MinMoves), Y: float64(m.TasksRestarted)})
				lo, hi = min(lo, float64(m.MinMoves)), max(hi, float64(m.MinMoves))
			}
		}
		if len(xys) == 0 {
			continue
		}
		if k := slices.IndexFunc(all, func(s *series) bool { return slices.Equal(s.xys, xys) }); k >= 0 {
			all[k].names = append(all[k].names, name)
			continue
		}
		all = append(all, &series{names: []string{name}, xys: xys})
	}
	for k, s := range all {
		sc, err := plotter.NewScatter(s.xys)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = plotutil.Color(k), plotutil.Shape(k), vg.Points(3)
		p.Add(sc)
		p.Legend.Add(strings.Join(s.names, " = "), sc)
	}
	if hi > 0 {
		ideal := plotter.NewFunction(func(x float64) float64 { return x })
		ideal.XMin, ideal.XMax = lo, hi
		ideal.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
		ideal.Color = plotutil.Color(len(all))
		p.Add(ideal)
		p.Legend.Add("one restart per needed move", ideal)
	}
	p.Legend.ThumbnailWidth = vg.Points(12)
	return p.Save(8*vg.Inch, 6*vg.Inch, path)
}

// balanceChart plots COV after against tasks restarted for every run in every world,
// one series per policy (restarts on a log scale, a run that restarted nothing at
// 0.5): a policy that barely acts shows as high COV, not as cheap.
func (r Report) balanceChart(path string) error {
	p := plot.New()
	p.Title.Text = "COV after against tasks restarted, every run in every world"
	p.X.Label.Text = "tasks restarted (0 drawn at 0.5)"
	p.Y.Label.Text = "COV after (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	for k, name := range r.Policies {
		var xys plotter.XYs
		for _, res := range r.Scenarios {
			for _, sr := range res.Seeds {
				m := sr.Policies[name]
				xys = append(xys, plotter.XY{X: max(0.5, float64(m.TasksRestarted)), Y: m.COVAfter})
			}
		}
		if len(xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = plotutil.Color(k), plotutil.Shape(k), vg.Points(2.5)
		p.Add(sc)
		p.Legend.Add(name, sc)
	}
	p.Legend.ThumbnailWidth = vg.Points(12)
	return p.Save(8*vg.Inch, 6*vg.Inch, path)
}

// Markdown writes the page a person reads.
func (r Report) Markdown(w io.Writer) {
	cfg := config.Default()
	fmt.Fprintf(w, "# ecs-rebalancer against the known approaches\n\n")
	fmt.Fprintf(w, "Generated by `make compare` (`lambda/cmd/compare`); do not edit by hand. The same %d\n", len(r.Scenarios))
	fmt.Fprintf(w, "simulated clusters, each at the moment an empty instance joins, are given to every policy\n")
	fmt.Fprintf(w, "in turn; the simulator (docs/simulator.md, \"How the simulator models ECS\") runs the cluster until it\n")
	fmt.Fprintf(w, "settles and counts what happened. Figures are in `comparison.json`.\n\n")
	fmt.Fprintf(w, "- `auto`, `move`, `force-new-deployment`, `drain`: ecs-rebalancer with its defaults (COV_PERCENT %g,\n", cfg.COVPercent)
	fmt.Fprintf(w, "  DRAIN_MAX_INSTANCES %d, REBALANCE_MAX_RETRY %d, MAX_SERVICES_PER_RUN %d, MAX_MOVES_PER_RUN %d, MOVE_WAIT %s).\n",
		cfg.DrainMaxInstances, cfg.RebalanceMaxRetry, cfg.MaxServicesPerRun, cfg.MaxMovesPerRun, cfg.MoveWait)
	fmt.Fprintf(w, "- `redeploy-all`: a new deployment of every service on a join (the AWS sample).\n")
	fmt.Fprintf(w, "- `drain-busiest`: above 25 %% COV, drain the instance running the most tasks until it is at or\n")
	fmt.Fprintf(w, "  below the mean or 60 s pass, then set every DRAINING instance ACTIVE (the published script).\n")
	fmt.Fprintf(w, "- `redeploy-uneven`: a new deployment of every service whose tasks per instance differ by more\n")
	fmt.Fprintf(w, "  than one.\n\n")
	fmt.Fprintf(w, "**Tasks restarted** counts the tasks a policy's run stopped beyond those an idle run (no policy)\n")
	fmt.Fprintf(w, "stops on the same cluster: a deployment already rolling when the instance joins replaces its\n")
	fmt.Fprintf(w, "tasks whatever anyone does, and that is not a policy's cost. **Churn ratio** is tasks restarted\n")
	fmt.Fprintf(w, "over minMoves (the fewest single-task moves that would balance the cluster), over the scenarios\n")
	fmt.Fprintf(w, "where the policy acted (made a mutating call). **COV** is the coefficient of\n")
	fmt.Fprintf(w, "variation of running tasks per ACTIVE instance, in percent (docs/decisions.md, Measuring balance). **Ineligible services\n")
	fmt.Fprintf(w, "touched** counts the services ecs-rebalancer must leave alone (README, Safety guarantees: DAEMON,\n")
	fmt.Fprintf(w, "FARGATE, opted out, binpack- or random-first, CODE_DEPLOY or EXTERNAL, no room to replace a\n")
	fmt.Fprintf(w, "task, mid-deployment, fewer than two tasks) that a policy redeployed, or whose tasks stopped\n")
	fmt.Fprintf(w, "because it drained their instance and the idle run did not stop them; a DAEMON task stopping\n")
	fmt.Fprintf(w, "on a drained instance is not counted (it comes back after the drain, by design). **Foreign\n")
	fmt.Fprintf(w, "drains undone** counts instances someone else had set DRAINING that the policy set ACTIVE.\n\n")

	fmt.Fprintf(w, "## Summary\n\n")
	fmt.Fprintf(w, "| policy | acted on | median churn | worst churn | mean COV after | at or below %g %% after | tasks restarted | mutating calls | ECS calls | below min healthy | ineligible services touched | foreign drains undone |\n", cfg.COVPercent)
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, name := range r.Policies {
		s := r.Summary[name]
		fmt.Fprintf(w, "| `%s` | %d of %d | %s | %s | %.2f %% | %d | %d | %d | %d | %d | %d | %d |\n", name, s.Acted, s.Scenarios,
			ratio(s.MedianChurnRatio), ratio(s.WorstChurnRatio), s.MeanCOVAfter, s.ReachedTarget, s.TasksRestarted, s.MutatingCalls, s.APICalls,
			s.BelowMinHealthy, s.IneligibleTouched, s.ForeignDrainReactivated)
	}
	fmt.Fprintf(w, "\n![Tasks restarted against minMoves, per policy](%s)\n\n", chartFile)
	r.seedsSummary(w)
	r.headToHead(w)

	fmt.Fprintf(w, "## Per scenario\n\n")
	fmt.Fprintf(w, "Each cell: COV after, then tasks restarted; a dash when the policy left the cluster alone. The\n")
	fmt.Fprintf(w, "idle column is the cluster with no policy: its COV after settling, and the tasks it stopped\n")
	fmt.Fprintf(w, "by itself (which the policies' counts leave out). (†) marks a policy some of whose calls ECS\n")
	fmt.Fprintf(w, "refused: the baselines ask for new deployments of CODE_DEPLOY and EXTERNAL services, which ECS\n")
	fmt.Fprintf(w, "rejects, and the rest of their work goes ahead. The errors are in `comparison.json`.\n\n")
	fmt.Fprintf(w, "| scenario | instances | tasks | COV before | minMoves | idle |")
	for _, name := range r.Policies {
		fmt.Fprintf(w, " `%s` |", name)
	}
	fmt.Fprintf(w, "\n| --- | ---: | ---: | ---: | ---: | ---: |%s\n", strings.Repeat(" ---: |", len(r.Policies)))
	for _, res := range r.Scenarios {
		first := res.Policies[r.Policies[0]]
		fmt.Fprintf(w, "| %s | %d | %d | %.2f %% | %d | %.2f %% / %d |", res.Name, res.Instances, res.Tasks, first.COVBefore, first.MinMoves,
			res.Idle.COVAfter, res.Idle.TasksStopped)
		for _, name := range r.Policies {
			m := res.Policies[name]
			mark := ""
			if m.Error != "" {
				mark = " (†)"
			}
			if m.Acted {
				fmt.Fprintf(w, " %.2f %% / %d%s |", m.COVAfter, m.TasksRestarted, mark)
			} else {
				fmt.Fprintf(w, " -%s |", mark)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n### Scenarios\n\n")
	for _, res := range r.Scenarios {
		fmt.Fprintf(w, "- `%s`: %s.\n", res.Name, res.Description)
	}
}

// seedsSummary writes the figures over every world seed, the calibration of our
// predictions, and the runs that miss.
func (r Report) seedsSummary(w io.Writer) {
	seeds := WorldSeeds()
	fmt.Fprintf(w, "## Over %d worlds per scenario: the reachable target and the predictions\n\n", len(seeds))
	fmt.Fprintf(w, "Every scenario runs again in %d simulated worlds (seeds %v), which differ in how ECS breaks\n", len(seeds), seeds)
	fmt.Fprintf(w, "ties between equally good instances and in which documented reading of its stop rule holds.\n")
	fmt.Fprintf(w, "ecs-rebalancer's predictions never see a world's seed: they run on samples of their own.\n")
	fmt.Fprintf(w, "The **distance** is the task moves from a distribution to the reachable target (the most even\n")
	fmt.Fprintf(w, "one the services' own placement rules allow, docs/decisions.md, \"The reachable target\"). **Gap closed**\n")
	fmt.Fprintf(w, "is 1 - distance after / distance before (over every run: leaving the cluster alone closes\n")
	fmt.Fprintf(w, "nothing); **churn per move** is tasks restarted / (distance before - distance after), over the\n")
	fmt.Fprintf(w, "runs that restarted something, 1.00 at best, infinite (∞) when the restarts closed no\n")
	fmt.Fprintf(w, "distance. The **goal** is COV_PERCENT, or the reachable floor plus half a point when the\n")
	fmt.Fprintf(w, "rules allow no lower. **Calibration** is the share of our acted runs whose COV after lies\n")
	fmt.Fprintf(w, "inside the predicted range; **false reach** the share of acted runs that were predicted to\n")
	fmt.Fprintf(w, "reach the goal and did not.\n\n")
	fmt.Fprintf(w, "| policy | runs | acted | median gap closed | median churn per move | worst churn per move | mean COV after | reached the goal | calibration | false reach |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, name := range r.Policies {
		s := r.Summary[name]
		worst := ratio(s.WorstChurnPerMove)
		if s.WorstChurnPerMoveInfinite {
			worst = "∞"
		}
		if s.WorstChurnPerMoveRun != "" {
			worst += " (" + s.WorstChurnPerMoveRun + ")"
		}
		medChurn := ratio(s.MedianChurnPerMove)
		if s.MedianChurnPerMove == nil && s.RunsActed > 0 {
			medChurn = "∞"
		}
		fmt.Fprintf(w, "| `%s` | %d | %d | %s | %s | %s | %.2f %% | %d | %s | %s |\n", name, s.Runs, s.RunsActed, ratio(s.MedianGapClosed),
			medChurn, worst, s.MeanCOVAfterAllSeeds, s.ReachedGoal, percent(s.Calibration), percent(s.FalseReach))
	}
	fmt.Fprintf(w, "\n![COV after against tasks restarted, per policy](%s)\n\n", balanceChartFile)
	for _, name := range r.Ours {
		s := r.Summary[name]
		if len(s.Outside) == 0 && len(s.FalseReachRuns) == 0 {
			continue
		}
		fmt.Fprintf(w, "`%s`: %d acted run(s) outside the predicted range, %d predicted to reach the goal that did not.\n\n", name, len(s.Outside), len(s.FalseReachRuns))
		for _, line := range s.Outside {
			fmt.Fprintf(w, "- outside: %s\n", line)
		}
		for _, line := range s.FalseReachRuns {
			fmt.Fprintf(w, "- false reach: %s\n", line)
		}
		fmt.Fprintln(w)
	}
}

func percent(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f %%", *v*100)
}

// headToHead compares each of our policies with each baseline on the scenarios where
// both acted: how often ours restarted fewer tasks, and how often it left a lower COV.
func (r Report) headToHead(w io.Writer) {
	var theirs []string
	for _, name := range r.Policies {
		if !slices.Contains(r.Ours, name) {
			theirs = append(theirs, name)
		}
	}
	if len(r.Ours) == 0 || len(theirs) == 0 {
		return
	}
	fmt.Fprintf(w, "## Head to head\n\n")
	fmt.Fprintf(w, "Each cell counts, over the scenarios where both policies acted, those where ours restarted\n")
	fmt.Fprintf(w, "fewer tasks, then those where it left a lower COV (ties count for neither).\n\n")
	fmt.Fprintf(w, "| ours |")
	for _, t := range theirs {
		fmt.Fprintf(w, " against `%s` |", t)
	}
	fmt.Fprintf(w, "\n| --- |%s\n", strings.Repeat(" --- |", len(theirs)))
	for _, o := range r.Ours {
		fmt.Fprintf(w, "| `%s` |", o)
		for _, t := range theirs {
			both, fewer, lower := 0, 0, 0
			for _, res := range r.Scenarios {
				a, b := res.Policies[o], res.Policies[t]
				if !a.Acted || !b.Acted {
					continue
				}
				both++
				if a.TasksRestarted < b.TasksRestarted {
					fewer++
				}
				if a.COVAfter < b.COVAfter {
					lower++
				}
			}
			fmt.Fprintf(w, " fewer restarts %d of %d, lower COV %d of %d |", fewer, both, lower, both)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

func ratio(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v)
}
