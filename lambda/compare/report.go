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
		r.Summary[p.Name] = summarize(runs)
	}
	return r
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
	f, err := os.Create(filepath.Join(dir, "comparison.md"))
	if err != nil {
		return err
	}
	r.Markdown(f)
	return f.Close()
}

const chartFile = "comparison-churn.svg"

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

// Markdown writes the page a person reads.
func (r Report) Markdown(w io.Writer) {
	cfg := config.Default()
	fmt.Fprintf(w, "# ecs-rebalancer against the known approaches\n\n")
	fmt.Fprintf(w, "Generated by `make compare` (`lambda/cmd/compare`); do not edit by hand. The same %d\n", len(r.Scenarios))
	fmt.Fprintf(w, "simulated clusters, each at the moment an empty instance joins, are given to every policy\n")
	fmt.Fprintf(w, "in turn; the simulator (README, \"How the simulator models ECS\") runs the cluster until it\n")
	fmt.Fprintf(w, "settles and counts what happened. Figures are in `comparison.json`.\n\n")
	fmt.Fprintf(w, "- `auto`, `force-new-deployment`, `drain`: ecs-rebalancer with its defaults (COV_PERCENT %g,\n", cfg.COVPercent)
	fmt.Fprintf(w, "  DRAIN_MAX_INSTANCES %d, REBALANCE_MAX_RETRY %d, MAX_SERVICES_PER_RUN %d).\n", cfg.DrainMaxInstances, cfg.RebalanceMaxRetry, cfg.MaxServicesPerRun)
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
	fmt.Fprintf(w, "variation of running tasks per ACTIVE instance, in percent (SPEC §4). **Ineligible services\n")
	fmt.Fprintf(w, "touched** counts the services ecs-rebalancer must leave alone (SPEC §5 and §6: DAEMON,\n")
	fmt.Fprintf(w, "FARGATE, opted out, binpack- or random-first, CODE_DEPLOY or EXTERNAL, no room to replace a\n")
	fmt.Fprintf(w, "task, mid-deployment, fewer than two tasks) that a policy redeployed, or whose tasks stopped\n")
	fmt.Fprintf(w, "because it drained their instance and the idle run did not stop them; a DAEMON task stopping\n")
	fmt.Fprintf(w, "on a drained instance is not counted (it comes back after the drain, SPEC §5). **Foreign\n")
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
