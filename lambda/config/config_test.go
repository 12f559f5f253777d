package config_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	got, err := config.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Config{
		Strategy: "auto", COVPercent: 25, DrainSleepTime: 30 * time.Second, DrainTimeout: 45 * time.Second,
		DrainMaxInstances: 2, RebalanceMaxRetry: 3, MaxServicesPerRun: 20, MaxMovesPerRun: 50, MoveWait: 5 * time.Minute,
		PredictionSamples: 8, JoinWindow: 10 * time.Minute, OptOutTag: "ecs-rebalancer:skip", LogLevel: slog.LevelInfo,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	// (1+3) x 2 x (45+30) = 600 s of drain, plus 60 s + 20 x 0.25 s.
	// A move waits at most 2 x 5 min: the same 600 s.
	if got.WorstCaseDrain() != 600*time.Second || got.WorstCaseMove() != 600*time.Second || got.FunctionTimeout() != 665*time.Second {
		t.Errorf("worst case drain %v, move %v, timeout %v", got.WorstCaseDrain(), got.WorstCaseMove(), got.FunctionTimeout())
	}
}

// A value that does not parse is one problem, said once: no second error about a
// zero the user never typed.
func TestAValueThatDoesNotParseIsReportedOnce(t *testing.T) {
	for name, v := range map[string]string{"JOIN_WINDOW": "soon", "MOVE_WAIT": "later", "COV_PERCENT": "high", "DRY_RUN": "yes"} {
		t.Run(name, func(t *testing.T) {
			_, err := config.FromEnv(env(map[string]string{name: v}))
			if err == nil {
				t.Fatal("accepted")
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != 1 || strings.Contains(err.Error(), "strconv") || strings.Contains(err.Error(), "0s") {
				t.Errorf("%d lines:\n%v", n, err)
			}
		})
	}
}

// A misspelled setting is not silently ignored.
func TestUnknownLooksLikeOurs(t *testing.T) {
	got := config.Unknown([]string{"COV_PRECENT=10", "DRAIN_TIMOUT=30", "STRATEGY=auto", "PATH=/bin", "AWS_REGION=us-east-1", "HOME=/root", "LOG_LEVL=debug"})
	want := []string{
		"COV_PRECENT is not a setting; did you mean COV_PERCENT?",
		"DRAIN_TIMOUT is not a setting; did you mean DRAIN_TIMEOUT?",
		"LOG_LEVL is not a setting; did you mean LOG_LEVEL?",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c config.Config)
		wantErr []string
	}{
		{name: "every variable set", env: map[string]string{
			"STRATEGY": "drain", "COV_PERCENT": "12.5", "DRAIN_SLEEP_TIME": "10", "DRAIN_TIMEOUT": "60s",
			"DRAIN_MAX_INSTANCES": "3", "REBALANCE_MAX_RETRY": "1", "MAX_SERVICES_PER_RUN": "100",
			"MAX_MOVES_PER_RUN": "500", "MOVE_WAIT": "30",
			"PREDICTION_SAMPLES": "32", "JOIN_WINDOW": "1h", "OPT_OUT_TAG": "team:skip", "DRY_RUN": "true", "LOG_LEVEL": "debug",
			"CLUSTERS": "prod, arn:aws:ecs:us-east-1:111122223333:cluster/staging",
		}, check: func(t *testing.T, c config.Config) {
			want := config.Config{
				Strategy: "drain", COVPercent: 12.5, DrainSleepTime: 10 * time.Second, DrainTimeout: time.Minute,
				DrainMaxInstances: 3, RebalanceMaxRetry: 1, MaxServicesPerRun: 100, MaxMovesPerRun: 500, MoveWait: 30 * time.Second,
				PredictionSamples: 32, JoinWindow: time.Hour,
				OptOutTag: "team:skip", DryRun: true, LogLevel: slog.LevelDebug,
				Clusters: []string{"prod", "arn:aws:ecs:us-east-1:111122223333:cluster/staging"},
			}
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !c.ActsOn("prod", "x") || !c.ActsOn("staging", "arn:aws:ecs:us-east-1:111122223333:cluster/staging") || c.ActsOn("dev", "y") {
				t.Error("ActsOn")
			}
		}},
		{name: "force-new-deployment never drains", env: map[string]string{"STRATEGY": "force-new-deployment", "DRAIN_MAX_INSTANCES": "3", "REBALANCE_MAX_RETRY": "5", "DRAIN_TIMEOUT": "60"},
			check: func(t *testing.T, c config.Config) {
				if c.WorstCaseDrain() != 0 || c.WorstCaseMove() != 0 {
					t.Errorf("worst-case drain %v, move %v", c.WorstCaseDrain(), c.WorstCaseMove())
				}
			}},
		{name: "move never drains, and its waits set the timeout", env: map[string]string{"STRATEGY": "move", "MOVE_WAIT": "6m", "DRAIN_MAX_INSTANCES": "3", "REBALANCE_MAX_RETRY": "5", "DRAIN_TIMEOUT": "60"},
			check: func(t *testing.T, c config.Config) {
				if c.WorstCaseDrain() != 0 || c.FunctionTimeout() != 12*time.Minute+65*time.Second {
					t.Errorf("worst-case drain %v, timeout %v", c.WorstCaseDrain(), c.FunctionTimeout())
				}
			}},
		{name: "every out-of-range value, all reported at once", env: map[string]string{
			"STRATEGY": "yolo", "COV_PERCENT": "101", "DRAIN_SLEEP_TIME": "5", "DRAIN_TIMEOUT": "61",
			"DRAIN_MAX_INSTANCES": "4", "REBALANCE_MAX_RETRY": "-1", "MAX_SERVICES_PER_RUN": "0", "JOIN_WINDOW": "30s",
			"PREDICTION_SAMPLES": "33", "MAX_MOVES_PER_RUN": "501", "MOVE_WAIT": "29s",
		}, wantErr: []string{
			`STRATEGY=yolo: allowed auto, force-new-deployment, drain or move`,
			`MAX_MOVES_PER_RUN=501: allowed 1-500`,
			`MOVE_WAIT=29s: allowed 30s-10m`,
			`COV_PERCENT=101: allowed 0-100`,
			`DRAIN_SLEEP_TIME=5s: allowed 10-30 s`,
			`DRAIN_TIMEOUT=61s: allowed 0-60 s`,
			`DRAIN_MAX_INSTANCES=4: allowed 0-3`,
			`REBALANCE_MAX_RETRY=-1: allowed 0-5`,
			`MAX_SERVICES_PER_RUN=0: allowed 1-100`,
			`PREDICTION_SAMPLES=33: allowed 1-32`,
			`JOIN_WINDOW=30s: allowed 1m-1h`,
		}},
		{name: "values that do not parse, all reported", env: map[string]string{
			"COV_PERCENT": "a lot", "DRAIN_TIMEOUT": "soon", "DRAIN_MAX_INSTANCES": "two", "DRY_RUN": "maybe", "LOG_LEVEL": "loud", "JOIN_WINDOW": "10",
		}, wantErr: []string{
			`COV_PERCENT="a lot": not a number`, `DRAIN_TIMEOUT="soon": not seconds or a duration`,
			`DRAIN_MAX_INSTANCES="two": not a whole number`, `DRY_RUN="maybe": not true or false`, `LOG_LEVEL="loud": not one of debug, info, warn, error`, `JOIN_WINDOW=10s: allowed 1m-1h`,
		}},
		{name: "JOIN_WINDOW takes bare seconds, as the other durations do", env: map[string]string{"JOIN_WINDOW": "600"},
			check: func(t *testing.T, c config.Config) {
				if c.JoinWindow != 10*time.Minute {
					t.Errorf("JOIN_WINDOW 600 read as %v", c.JoinWindow)
				}
			}},
		{name: "worst-case drain above Lambda's 900 s", env: map[string]string{
			"DRAIN_MAX_INSTANCES": "3", "REBALANCE_MAX_RETRY": "5", "DRAIN_TIMEOUT": "60", "DRAIN_SLEEP_TIME": "30",
		}, wantErr: []string{"worst-case run time 1685s (drain 1620s = (1+REBALANCE_MAX_RETRY) x DRAIN_MAX_INSTANCES x (DRAIN_TIMEOUT+DRAIN_SLEEP_TIME), plus 65s margin) exceeds Lambda's 900s"}},
		{name: "worst-case move above Lambda's 900 s", env: map[string]string{"STRATEGY": "move", "MOVE_WAIT": "8m"},
			wantErr: []string{"worst-case run time 1025s (move 960s = 2 x MOVE_WAIT, plus 65s margin) exceeds Lambda's 900s: lower MOVE_WAIT"}},
		{name: "NaN is not a percentage", env: map[string]string{"COV_PERCENT": "NaN"}, wantErr: []string{"not a number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.FromEnv(env(tt.env))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, c)
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n < len(tt.wantErr) {
				t.Errorf("%d problems reported, want at least %d", n, len(tt.wantErr))
			}
		})
	}
}

// Environ is what FromEnv reads back: the stack sets it, the function parses it.
func TestEnvironRoundTrip(t *testing.T) {
	c := config.Default()
	c.Strategy, c.COVPercent, c.DrainTimeout, c.DryRun, c.LogLevel = "drain", 12.5, 20*time.Second, true, slog.LevelDebug
	c.MaxMovesPerRun, c.MoveWait = 7, 90*time.Second
	c.Clusters = []string{"a", "arn:aws:ecs:us-east-1:1:cluster/b"}
	env := c.Environ()
	got, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("(-written +read):\n%s", diff)
	}
}
