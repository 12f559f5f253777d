# ecs-rebalancer. `make test` is what CI runs (through .ci/run).
SHELL := /bin/bash
export GOTOOLCHAIN := local

GO_FILES = $(shell git ls-files --cached --others --exclude-standard '*.go')
BOOTSTRAP := build/rebalancer/bootstrap

# jsii (under aws-cdk-go) prints an end-of-life banner on Node 20; the value names the
# major version. It must be in the environment before any CDK binary starts.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

# The CDK CLI, pinned: 3.x rejects the cloud assembly of aws-cdk-lib 2.270.
# It lives under .tools/ so node_modules stays out of the Go module tree.
CDK_VERSION := 2.1148.1
CDK := .tools/node_modules/.bin/cdk
# make deploy CLUSTER=prod | make deploy DEMO=true [SCHEDULE="rate(1 hour)"] [ALARM_EMAIL=you@example.com]
CLUSTER ?=
DEMO ?=
SCHEDULE ?=
ALARM_EMAIL ?=
CDK_CONTEXT = $(if $(CLUSTER),-c clusterName=$(CLUSTER)) $(if $(filter true,$(DEMO)),-c demo=true) \
	$(if $(SCHEDULE),-c schedule="$(SCHEDULE)") $(if $(ALARM_EMAIL),-c alarmEmail=$(ALARM_EMAIL))

.PHONY: help settings package pause resume test fmt-check vet lint unit e2e fuzz soak build build-local replay compare bench cover clean synth deploy diff destroy cdk

help:
	@echo "make test         gofmt check, go vet, staticcheck, unit tests (lambda and ecsrebalancer), the simulator under -race,"
	@echo "                  the committed comparison check, make e2e, make fuzz (what CI runs)"
	@echo "make replay       the headline scenario through the real handler and the simulator"
	@echo "make compare      regenerate docs/comparison.{md,json} and the charts"
	@echo "make settings     regenerate docs/settings.md (COV_PERCENT and MAX_SERVICES_PER_RUN by cluster size)"
	@echo "make e2e          the released binary against the local ECS endpoint"
	@echo "make fuzz         native fuzzing of every input (FUZZTIME=3s each)"
	@echo "make soak         the other-actors property test at length"
	@echo "make bench        Go benchmarks"
	@echo "make cover        coverage of the simulator"
	@echo "make build        bootstrap for Lambda (provided.al2023, arm64)"
	@echo "make build-local  bootstrap for this machine, for lambda/cmd/invoke"
	@echo "make synth        synthesize the stacks offline"
	@echo "make package      dist/: the function's zip and a CloudFormation template (no CDK bootstrap needed)"
	@echo "make deploy CLUSTER=name [DEMO=true] [SCHEDULE=...] [ALARM_EMAIL=...]   deploy (also diff, destroy)"
	@echo "make pause CLUSTER=name   disable the rules that invoke the function (make resume: enable them)"
	@echo "make clean        remove build outputs"

test: fmt-check vet lint unit e2e fuzz

# gofmt over the files git knows (tracked or new and not ignored): `gofmt -l .`
# would descend into tool directories such as .tools/node_modules.
fmt-check:
	@out=$$(gofmt -l $(GO_FILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

# staticcheck, pinned, installed under .tools/ on first use. Its default checks, all of
# them: the code has no finding to silence.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := .tools/bin/staticcheck-$(STATICCHECK_VERSION)
$(STATICCHECK):
	mkdir -p .tools/bin
	GOBIN=$(CURDIR)/.tools/gobin go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv .tools/gobin/staticcheck $@

lint: $(STATICCHECK)
	$(STATICCHECK) -tags e2e,compare ./...

# The simulator serves concurrent callers (the local endpoint), so it also runs under
# the race detector. The last line checks that docs/comparison.{json,md} are what the
# code produces now (the whole comparison: about two minutes, so not in the quick loop).
unit:
	go test ./...
	go test -count=1 -run 'TestFaultPointSweep|TestOtherActorsDuringARun' ./lambda/rebalance/ -soak
	go test -race ./lambda/sim/
	go test -count=1 -tags compare -run 'TestCommittedComparisonIsCurrent|TestCommittedSettingsAreCurrent' ./lambda/compare/

# The Lambda binary for provided.al2023 on arm64 (README, "Deploy").
build:
	mkdir -p $(dir $(BOOTSTRAP))
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $(BOOTSTRAP) ./lambda/cmd/rebalancer

# dist/: the function's zip and a CloudFormation template that deploys it with
# `aws cloudformation deploy`, without Go, Node or a CDK bootstrap on the deploying
# side (README, "Deploy without the CDK"). The template is synthesized from the same
# construct (ecsrebalancer.NewPackageStack).
VERSION ?= $(shell git rev-parse --short HEAD)
package: build
	rm -rf dist && mkdir -p dist
	cd $(dir $(BOOTSTRAP)) && zip -q -X $(CURDIR)/dist/ecs-rebalancer-$(VERSION).zip bootstrap
	AWS_REGION=$${AWS_REGION:-us-east-1} AWS_EC2_METADATA_DISABLED=true CDK_OUTDIR=dist/cdk.out \
		CDK_CONTEXT_JSON='{"package":"true"}' go run ./ecsrebalancer/cmd/app
	cp dist/cdk.out/EcsRebalancerPackage.template.json dist/ecs-rebalancer.template.json
	rm -rf dist/cdk.out
	@ls -1 dist

# The released binary (built for this machine) under a Lambda Runtime API harness,
# against the ECS endpoint serving testdata snapshots (lambda/e2e; about a minute).
e2e:
	go vet -tags e2e ./lambda/e2e/ ./lambda/cmd/invoke/
	go test -count=1 -tags e2e ./lambda/e2e/ ./lambda/cmd/invoke/

# The function binary for this machine, for running it by hand (README, "Try it on
# your own cluster"): go run ./lambda/cmd/invoke -bootstrap build/local/bootstrap EVENT.json
build-local:
	mkdir -p build/local
	CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -o build/local/bootstrap ./lambda/cmd/rebalancer

# Native Go fuzzing of every input the project reads: events, snapshots, the ECS JSON
# codec, configuration, the replay command's arguments and event files. Briefly in make test; longer with
# make fuzz FUZZTIME=5m. A short minimization time keeps large seeds moving.
FUZZTIME ?= 3s
FUZZ_TARGETS := lambda/event:FuzzDecode lambda/snapshot:FuzzDecode lambda/ecsjson:FuzzUnmarshal lambda/config:FuzzFromEnv \
	lambda/replay:FuzzReplayEvent lambda/replay:FuzzReplayArgs
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$${t##*:}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./$${t%%:*}; \
	done

# The fault-point sweep in every mode (1,189 points) and the other-actors property
# test at length (40 generated clusters x 3 strategies x 8 kinds of outside change x 6
# interleavings: 5,760 runs); about 40 s, and part of make test. go test ./... runs
# each smaller (one mode per call; 384 runs), go test -short smaller still.
soak:
	set -o pipefail; go test -count=1 -run 'TestFaultPointSweep|TestOtherActorsDuringARun' ./lambda/rebalance/ -soak -v | grep -E "runs|fault points|FAIL|^ok"

# docs/settings.md: auto on the family's moderate clusters with each value of COV_PERCENT
# and MAX_SERVICES_PER_RUN, in the comparison's five worlds (about 30 s).
settings:
	go run ./lambda/cmd/compare -settings docs/settings.md

# The headline scenario: three loaded instances and one that just joined (see the
# README's "See it work").
replay:
	go run ./lambda/cmd/replay -cluster testdata/snapshots/headline.json testdata/events/headline-join.json

# Our strategies and the baselines on the same simulated clusters, each in five
# worlds: rewrites docs/comparison.md, docs/comparison.json and the charts (about two
# minutes on two cores).
compare:
	go run ./lambda/cmd/compare -out docs

bench:
	go test -run '^$$' -bench . -benchmem ./lambda/...

cover:
	go test -cover ./lambda/sim/...

$(CDK):
	npm install --prefix .tools --no-audit --no-fund --no-save aws-cdk@$(CDK_VERSION)

cdk: $(CDK)

# Offline, without credentials: the stacks are environment-agnostic. With nothing
# chosen it synthesizes the demo and an attachment to a cluster named "default".
synth: $(CDK)
	AWS_REGION=$${AWS_REGION:-us-east-1} AWS_EC2_METADATA_DISABLED=true \
		$(CDK) synth --no-notices $(or $(strip $(CDK_CONTEXT)),-c demo=true -c clusterName=default) >/dev/null
	@echo "synthesized into cdk.out/"

deploy: $(CDK)
	$(CDK) deploy --no-notices $(CDK_CONTEXT) --all

diff: $(CDK)
	$(CDK) diff --no-notices $(CDK_CONTEXT)

destroy: $(CDK)
	$(CDK) destroy --no-notices $(CDK_CONTEXT) --all

# The kill switch: disable (or enable again) the rules that invoke the function, from
# the stack's outputs. A run in flight finishes on its own (every way out undoes what
# it did); nothing new starts. make pause CLUSTER=prod | make pause DEMO=true
STACK = $(if $(filter true,$(DEMO)),EcsRebalancerDemo,EcsRebalancer-$(CLUSTER))
RULES = aws cloudformation describe-stacks --stack-name $(STACK) --output text \
	--query "Stacks[0].Outputs[?OutputKey=='RebalancerJoinRuleName' || OutputKey=='RebalancerScheduleRuleName'].OutputValue"

pause:
	@for r in $$($(RULES)); do aws events disable-rule --name $$r && echo "disabled $$r"; done

resume:
	@for r in $$($(RULES)); do aws events enable-rule --name $$r && echo "enabled $$r"; done

clean:
	rm -rf build cdk.out
