// Package config turns the environment into a validated Config (README,
// "Configuration"). The Lambda parses it once at cold start; the CDK app runs the same
// validation at synth.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Strategy names a way to rebalance (STRATEGY; docs/decisions.md, "Strategies and
// how `auto` chooses"): auto picks one of the other three.
type Strategy string

// Strategies.
const (
	StrategyAuto               Strategy = "auto"
	StrategyForceNewDeployment Strategy = "force-new-deployment"
	StrategyDrain              Strategy = "drain"
	StrategyMove               Strategy = "move"
)

// Environment variable names.
const (
	EnvStrategy           = "STRATEGY"
	EnvCOVPercent         = "COV_PERCENT"
	EnvDrainSleepTime     = "DRAIN_SLEEP_TIME"
	EnvDrainTimeout       = "DRAIN_TIMEOUT"
	EnvDrainMaxInstances  = "DRAIN_MAX_INSTANCES"
	EnvRebalanceMaxRetry  = "REBALANCE_MAX_RETRY"
	EnvMaxServicesPerRun  = "MAX_SERVICES_PER_RUN"
	EnvMaxMovesPerRun     = "MAX_MOVES_PER_RUN"
	EnvMoveWait           = "MOVE_WAIT"
	EnvPredictionSamples  = "PREDICTION_SAMPLES"
	EnvJoinWindow         = "JOIN_WINDOW"
	EnvOptOutTag          = "OPT_OUT_TAG"
	EnvDryRun             = "DRY_RUN"
	EnvLogLevel           = "LOG_LEVEL"
	EnvClusters           = "CLUSTERS"
	MaxLambdaTimeout      = 900 * time.Second
	UpdateServiceInterval = 250 * time.Millisecond
)

// Config is the rebalancer's configuration.
type Config struct {
	Strategy          Strategy
	COVPercent        float64
	DrainSleepTime    time.Duration
	DrainTimeout      time.Duration
	DrainMaxInstances int
	RebalanceMaxRetry int
	MaxServicesPerRun int
	// MaxMovesPerRun caps the tasks the move strategy moves per invocation; MoveWait
	// bounds each of its two waits (for the new tasks to run, for the chosen ones to
	// stop).
	MaxMovesPerRun int
	MoveWait       time.Duration
	// PredictionSamples is how many samples of what ECS leaves unknown (ties, which
	// task stops) each prediction runs on.
	PredictionSamples int
	JoinWindow        time.Duration
	OptOutTag         string
	DryRun            bool
	LogLevel          slog.Level
	// Clusters restricts the clusters the function acts on (names or ARNs); empty means
	// the event's cluster. A schedule needs it.
	Clusters []string
}

// Default returns the defaults (README, "Configuration").
func Default() Config {
	return Config{
		Strategy:          StrategyAuto,
		COVPercent:        25,
		DrainSleepTime:    30 * time.Second,
		DrainTimeout:      45 * time.Second,
		DrainMaxInstances: 2,
		RebalanceMaxRetry: 3,
		MaxServicesPerRun: 20,
		MaxMovesPerRun:    50,
		MoveWait:          5 * time.Minute,
		PredictionSamples: 8,
		JoinWindow:        10 * time.Minute,
		OptOutTag:         "ecs-rebalancer:skip",
		LogLevel:          slog.LevelInfo,
	}
}

// FromEnv reads the configuration through getenv (os.Getenv in production) and
// validates it. Every problem is reported at once, each naming the variable, its value
// and what is allowed.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Default()
	var errs []error
	parse := func(name string, set func(string) error) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			if err := set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	}
	parse(EnvStrategy, func(v string) error { c.Strategy = Strategy(v); return nil })
	parse(EnvCOVPercent, into(&c.COVPercent, parseFloat))
	parse(EnvDrainSleepTime, into(&c.DrainSleepTime, parseSeconds))
	parse(EnvDrainTimeout, into(&c.DrainTimeout, parseSeconds))
	parse(EnvDrainMaxInstances, into(&c.DrainMaxInstances, parseInt))
	parse(EnvRebalanceMaxRetry, into(&c.RebalanceMaxRetry, parseInt))
	parse(EnvMaxServicesPerRun, into(&c.MaxServicesPerRun, parseInt))
	parse(EnvMaxMovesPerRun, into(&c.MaxMovesPerRun, parseInt))
	parse(EnvMoveWait, into(&c.MoveWait, parseSeconds))
	parse(EnvPredictionSamples, into(&c.PredictionSamples, parseInt))
	parse(EnvJoinWindow, into(&c.JoinWindow, parseSeconds))
	parse(EnvOptOutTag, func(v string) error { c.OptOutTag = v; return nil })
	parse(EnvDryRun, into(&c.DryRun, parseBool))
	parse(EnvLogLevel, into(&c.LogLevel, parseLevel))
	parse(EnvClusters, func(v string) error {
		for part := range strings.SplitSeq(v, ",") {
			if p := strings.TrimSpace(part); p != "" {
				c.Clusters = append(c.Clusters, p)
			}
		}
		return nil
	})
	if len(errs) > 0 {
		// Values that did not parse cannot be range-checked; report both kinds anyway.
		return c, errors.Join(append(errs, c.Validate())...)
	}
	return c, c.Validate()
}

// into sets *dst from a value that parses, and leaves the default otherwise: the error
// then says what was wrong with the value, and the range check does not report a
// zero the user never typed.
func into[T any](dst *T, parse func(string) (T, error)) func(string) error {
	return func(v string) error {
		x, err := parse(v)
		if err == nil {
			*dst = x
		}
		return err
	}
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, errors.New("not true or false")
}

func parseLevel(v string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return 0, errors.New("not one of debug, info, warn, error")
	}
	return l, nil
}

func parseFloat(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("not a number")
	}
	return f, nil
}

func parseInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errors.New("not a whole number")
	}
	return n, nil
}

// parseSeconds takes whole seconds ("30") or a Go duration ("30s").
func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New("not seconds or a duration")
	}
	return d, nil
}

// Names are the environment variables the rebalancer reads.
func Names() []string {
	return []string{EnvStrategy, EnvCOVPercent, EnvDrainSleepTime, EnvDrainTimeout, EnvDrainMaxInstances,
		EnvRebalanceMaxRetry, EnvMaxServicesPerRun, EnvMaxMovesPerRun, EnvMoveWait, EnvPredictionSamples,
		EnvJoinWindow, EnvOptOutTag, EnvDryRun, EnvLogLevel, EnvClusters}
}

// Unknown returns the variables of environ (NAME=value entries) that look like one of
// ours but are not, each with the name it probably meant: a misspelled COV_PRECENT
// would otherwise be ignored without a word. A name looks like ours when it is at
// most two edits from one of ours.
func Unknown(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(Names(), name) {
			continue
		}
		for _, ours := range Names() {
			if d := editDistance(strings.ToUpper(name), ours); d <= 2 && len(name) > 3 {
				out = append(out, fmt.Sprintf("%s is not a setting; did you mean %s?", name, ours))
				break
			}
		}
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// envSeconds writes d the way parseSeconds reads it: whole seconds as a plain number
// (the form the README documents), anything finer as a Go duration.
func envSeconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return d.String()
}

// Validate checks every setting against its allowed range and the worst-case drain
// time against Lambda's limit, and reports every problem.
func (c Config) Validate() error {
	var errs []error
	bad := func(name string, value any, allowed string) {
		errs = append(errs, fmt.Errorf("%s=%v: allowed %s", name, value, allowed))
	}
	switch c.Strategy {
	case StrategyAuto, StrategyForceNewDeployment, StrategyDrain, StrategyMove:
	default:
		bad(EnvStrategy, c.Strategy, "auto, force-new-deployment, drain or move")
	}
	if c.COVPercent < 0 || c.COVPercent > 100 {
		bad(EnvCOVPercent, c.COVPercent, "0-100")
	}
	if c.DrainSleepTime < 10*time.Second || c.DrainSleepTime > 30*time.Second {
		bad(EnvDrainSleepTime, seconds(c.DrainSleepTime), "10-30 s")
	}
	if c.DrainTimeout < 0 || c.DrainTimeout > 60*time.Second {
		bad(EnvDrainTimeout, seconds(c.DrainTimeout), "0-60 s")
	}
	if c.DrainMaxInstances < 0 || c.DrainMaxInstances > 3 {
		bad(EnvDrainMaxInstances, c.DrainMaxInstances, "0-3")
	}
	if c.RebalanceMaxRetry < 0 || c.RebalanceMaxRetry > 5 {
		bad(EnvRebalanceMaxRetry, c.RebalanceMaxRetry, "0-5")
	}
	if c.MaxServicesPerRun < 1 || c.MaxServicesPerRun > 100 {
		bad(EnvMaxServicesPerRun, c.MaxServicesPerRun, "1-100")
	}
	if c.MaxMovesPerRun < 1 || c.MaxMovesPerRun > 500 {
		bad(EnvMaxMovesPerRun, c.MaxMovesPerRun, "1-500")
	}
	if c.MoveWait < 30*time.Second || c.MoveWait > 10*time.Minute {
		bad(EnvMoveWait, c.MoveWait, "30s-10m")
	}
	if c.PredictionSamples < 1 || c.PredictionSamples > 32 {
		bad(EnvPredictionSamples, c.PredictionSamples, "1-32")
	}
	if c.JoinWindow < time.Minute || c.JoinWindow > time.Hour {
		bad(EnvJoinWindow, c.JoinWindow, "1m-1h")
	}
	if n := len(c.OptOutTag); n < 1 || n > 128 {
		bad(EnvOptOutTag, c.OptOutTag, "a tag key of 1-128 characters")
	}
	for _, cl := range c.Clusters {
		if strings.ContainsAny(cl, " \t") {
			bad(EnvClusters, cl, "cluster names or ARNs separated by commas")
		}
	}
	if len(errs) == 0 {
		if t := c.FunctionTimeout(); t > MaxLambdaTimeout {
			if c.WorstCaseMove() > c.WorstCaseDrain() {
				errs = append(errs, fmt.Errorf("worst-case run time %s (move %s = 2 x %s, plus %s margin) exceeds Lambda's %s: lower %s",
					seconds(t), seconds(c.WorstCaseMove()), EnvMoveWait, seconds(c.Margin()), seconds(MaxLambdaTimeout), EnvMoveWait))
			} else {
				errs = append(errs, fmt.Errorf("worst-case run time %s (drain %s = (1+%s) x %s x (%s+%s), plus %s margin) exceeds Lambda's %s: lower %s, %s, %s or %s",
					seconds(t), seconds(c.WorstCaseDrain()), EnvRebalanceMaxRetry, EnvDrainMaxInstances, EnvDrainTimeout, EnvDrainSleepTime,
					seconds(c.Margin()), seconds(MaxLambdaTimeout), EnvRebalanceMaxRetry, EnvDrainMaxInstances, EnvDrainTimeout, EnvDrainSleepTime))
			}
		}
	}
	return errors.Join(errs...)
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s" }

// WorstCaseDrain is (1 + REBALANCE_MAX_RETRY) x DRAIN_MAX_INSTANCES x (DRAIN_TIMEOUT +
// DRAIN_SLEEP_TIME) (README, "Configuration"); zero when the strategy never drains.
func (c Config) WorstCaseDrain() time.Duration {
	if c.Strategy != StrategyAuto && c.Strategy != StrategyDrain {
		return 0
	}
	return time.Duration(1+c.RebalanceMaxRetry) * time.Duration(c.DrainMaxInstances) * (c.DrainTimeout + c.DrainSleepTime)
}

// WorstCaseMove is 2 x MOVE_WAIT: a move waits once for its new tasks to run and once
// for the chosen ones to stop; zero when the strategy never moves.
func (c Config) WorstCaseMove() time.Duration {
	if c.Strategy != StrategyAuto && c.Strategy != StrategyMove {
		return 0
	}
	return 2 * c.MoveWait
}

// WorstCaseActing is the longest the enabled strategies may act for (auto runs one of
// them).
func (c Config) WorstCaseActing() time.Duration { return max(c.WorstCaseDrain(), c.WorstCaseMove()) }

// Margin is the time a run needs besides drain waits: reading the cluster, the
// paced UpdateService calls, the sweep, reactivation after a cut-short drain.
func (c Config) Margin() time.Duration {
	return 60*time.Second + time.Duration(c.MaxServicesPerRun)*UpdateServiceInterval
}

// FunctionTimeout is the Lambda timeout the stack sets: the worst-case drain or move,
// plus margin.
func (c Config) FunctionTimeout() time.Duration { return c.WorstCaseActing() + c.Margin() }

// Environ is the configuration as the environment variables FromEnv reads (what the
// stack sets on the function); CLUSTERS only when Clusters is set.
func (c Config) Environ() map[string]string {
	env := map[string]string{
		EnvStrategy:          string(c.Strategy),
		EnvCOVPercent:        strconv.FormatFloat(c.COVPercent, 'f', -1, 64),
		EnvDrainSleepTime:    envSeconds(c.DrainSleepTime),
		EnvDrainTimeout:      envSeconds(c.DrainTimeout),
		EnvDrainMaxInstances: strconv.Itoa(c.DrainMaxInstances),
		EnvRebalanceMaxRetry: strconv.Itoa(c.RebalanceMaxRetry),
		EnvMaxServicesPerRun: strconv.Itoa(c.MaxServicesPerRun),
		EnvMaxMovesPerRun:    strconv.Itoa(c.MaxMovesPerRun),
		EnvMoveWait:          c.MoveWait.String(),
		EnvPredictionSamples: strconv.Itoa(c.PredictionSamples),
		EnvJoinWindow:        c.JoinWindow.String(),
		EnvOptOutTag:         c.OptOutTag,
		EnvDryRun:            strconv.FormatBool(c.DryRun),
		EnvLogLevel:          strings.ToLower(c.LogLevel.String()),
	}
	if len(c.Clusters) > 0 {
		env[EnvClusters] = strings.Join(c.Clusters, ",")
	}
	return env
}

// ActsOn reports whether the function may act on the cluster (by name or ARN).
func (c Config) ActsOn(clusterName, clusterARN string) bool {
	if len(c.Clusters) == 0 {
		return true
	}
	for _, want := range c.Clusters {
		if want == clusterName || want == clusterARN {
			return true
		}
	}
	return false
}
