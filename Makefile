# Pulse: the two commands a newcomer needs are `make demo` and `make test`.
# Everything else is here for the people working on Pulse.
# Each target installs what it needs by itself: Go modules through the Go
# proxy, npm tools and the DynamoDB Local jar into .tools/ (git-ignored),
# Debian packages through apt-get when they are missing.

SHELL := /bin/bash
GO    ?= go
# gosnowflake embeds and dlopens a native library unless built with this tag
# (PINS.md); shared/adapters/snowflake's tests fail without it.
TAGS  ?= minicore_disabled
# The CDK CLI runs the Go app and jsii on the machine's Node; keep its banner quiet.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: demo test check lint lint-tool gofmt-check bench tools tools-demo build lambdas synth cloud-test localstack-up localstack-test localstack-down vet fmt race clean help

help:
	@echo "make demo   run Pulse locally on generated data (local stack, batch + stream, dashboard)"
	@echo "make test   install the test tools and run every check and test: gofmt, golangci-lint, vet, -race, all tests"
	@echo "make check  the quick loop: gofmt, golangci-lint, vet and the tests that need no installed tool (a minute or two warm)"
	@echo "make bench  run the benchmarks (figures and commands in tests/bench/README.md)"
	@echo "make lambdas | synth | localstack-up | localstack-test | tools | lint | vet | race | clean"

## The demo: the whole pipeline on embedded stand-ins. DEMO_ARGS passes flags,
## e.g. make demo DEMO_ARGS="--duration 60s".
demo: tools-demo build
	@echo "== starting the demo: ./pulse demo $(DEMO_ARGS)"
	./pulse demo $(DEMO_ARGS)

build:
	@echo "== building ./pulse (the first build compiles DuckDB and the AWS SDK: a few minutes on 2 cores; later builds take seconds)"
	$(GO) build -tags $(TAGS) -o pulse ./cmd/pulse

tools-demo:
	@echo "== downloading the Go modules (the first time: a minute or two)"
	$(GO) mod download
	@echo "== installing the dashboard's chart library (ECharts, from npm) into .tools/web"
	bash localstack/tools/web.sh

## Every test. Tools first, so nothing is skipped for want of them.
test: tools gofmt-check
	$(LINT) run
	$(GO) vet -tags $(TAGS) ./...
	$(MAKE) --no-print-directory race
	$(GO) test -tags $(TAGS) -count=1 -shuffle=on -timeout 30m ./...

## The quick loop: no tool installs but golangci-lint's (skipped when present); the packages whose
## tests need no installed tool (tests/packages.sh check: not the end-to-end, local-cloud, DynamoDB
## Local, Step Functions or browser tests). `make test` stays the full run.
check: lint-tool gofmt-check
	$(LINT) run
	$(GO) vet -tags $(TAGS) ./...
	pkgs="$$(bash tests/packages.sh check)" && $(GO) test -tags $(TAGS) -count=1 -shuffle=on $$pkgs

## golangci-lint with .golangci.yml: errcheck, govet, staticcheck, unused, errorlint, containedctx,
## and depguard rules for the import rules of CONTRIBUTING.md (tests/layering checks them too).
LINT := .tools/bin/golangci-lint
lint: lint-tool
	$(LINT) run

lint-tool:
	bash localstack/tools/golangci-lint.sh

gofmt-check:
	@test -z "$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files -co --exclude-standard '*.go'); exit 1; }

tools:
	$(GO) mod download
	bash localstack/tools/apt.sh
	bash localstack/tools/dynamodb-local.sh
	bash localstack/tools/sfn-local.sh
	bash localstack/tools/cdk.sh
	bash localstack/tools/rie.sh
	bash localstack/tools/web.sh
	bash localstack/tools/golangci-lint.sh

## Every Lambda function for provided.al2023 arm64 into .build/lambda/<name>/bootstrap, with sizes.
lambdas:
	bash infra/build-lambdas.sh

## The CDK app into cdk.out (offline; no AWS account needed) with the built functions.
## Without a deployment's inputs synth fails; SYNTH_CONTEXT defaults to placeholders.
## Deploying: see infra/README.md (cdk deploy and its inputs).
SYNTH_CONTEXT ?= --context placeholders=true
synth: lambdas
	.tools/cdk/node_modules/.bin/cdk synth --quiet --no-notices --no-version-reporting $(SYNTH_CONTEXT)

## The local cloud (localstack/cloud): the cloud assembly synthesized for this host, its functions under
## AWS's Lambda emulator, its custom resources, notifications, mappings, rules and state machines on the
## stand-ins, every AWS call checked against its role. The same tests run in `make test`.
cloud-test:
	$(GO) test -tags minicore_disabled -count=1 -run 'TestCloud' -v ./tests/e2e/

## LocalStack (needs Docker, which the CI here does not have): see localstack/README.md.
localstack-up:
	PULSE_LAMBDA_ARCH=$${PULSE_LAMBDA_ARCH:-amd64} bash infra/build-lambdas.sh
	docker compose -f localstack/compose.yaml up -d --wait
	bash localstack/deploy.sh

localstack-test:
	AWS_ENDPOINT_URL=$${AWS_ENDPOINT_URL:-http://localhost:4566} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
	PULSE_KAFKA_BROKERS=$${PULSE_KAFKA_BROKERS:-localhost:9094} PULSE_OUTPUTS_FILE=$${PULSE_OUTPUTS_FILE:-$(CURDIR)/.build/localstack-outputs.json} \
		$(GO) test -count=1 -tags localstack ./tests/integration/...

localstack-down:
	docker compose -f localstack/compose.yaml down -v

## Benchmarks (tests/bench/README.md): Clean+Model records/s on one core over
## 1M-row NDJSON, CSV and Parquet files, side by side with the same cleaning in
## DuckDB SQL (SET threads=1), best of two runs; then peak RSS over 128 MiB
## and 1 GiB of NDJSON. Fixtures are generated once into bench-out/ (about
## 3 GB of disk); about 5 minutes on 2 cores. Then the stream benchmarks,
## and the soak: `pulse demo` at 500 and at 5,000 events/s for SOAK (12m)
## each, RSS every 30 s (flatness judged after a 6-minute warm-up); about 30 minutes more.
SOAK ?= 12m
bench:
	bash localstack/tools/dynamodb-local.sh
	@mkdir -p bench-out
	@echo "machine: $$(nproc) CPUs, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $$($(GO) env GOVERSION), load average $$(cut -d' ' -f1-3 /proc/loadavg)"
	$(GO) build -o bench-out/pulse-bench ./cmd/pulse-bench
	set -o pipefail; $(GO) test ./tests/bench -run '^$$' -bench . -benchtime 1x -count 2 -cpu 1 -timeout 30m | tee bench-out/batch.txt
	set -o pipefail; ./bench-out/pulse-bench rss --mb 128,1024 --dir bench-out | tee bench-out/rss.txt
	@echo; ./bench-out/pulse-bench table bench-out/batch.txt
	@echo; echo "stream: handler events/s on one core (decode + clean + window, warehouse excluded), JSON and Avro"
	set -o pipefail; $(GO) test -tags $(TAGS) ./shared/handlers/ -run '^$$' -bench BenchmarkStreamHandler -benchtime 100x -cpu 1 | tee bench-out/stream-handler.txt
	@echo; echo "stream: produce-to-warehouse latency at 5,000 events/s on the local stack"
	set -o pipefail; $(GO) test -tags $(TAGS) ./localstack/stack/ -run '^$$' -bench BenchmarkStreamLatency -benchtime 1x | tee bench-out/stream-latency.txt
	@echo; echo "stream: DynamoDB writes per event (dedupe, window state, lease) at batch sizes 100 and 10,000, on DynamoDB Local"
	set -o pipefail; $(GO) test -tags $(TAGS) ./shared/adapters/dynamo/ -run '^$$' -bench BenchmarkStreamWritesPerEvent -benchtime 1x | tee bench-out/stream-writes.txt
	@echo; echo "soak: pulse demo (batch rounds, simulator, stream) at 500 and 5,000 events/s for $(SOAK) each, memory every 30 s"
	$(GO) build -tags $(TAGS) -o bench-out/pulse ./cmd/pulse
	set -o pipefail; ./bench-out/pulse-bench soak --rate 500 --duration $(SOAK) --dir bench-out/soak | tee bench-out/soak-500.txt
	set -o pipefail; ./bench-out/pulse-bench soak --rate 5000 --duration $(SOAK) --dir bench-out/soak | tee bench-out/soak-5000.txt
	@echo "load average at the end: $$(cut -d' ' -f1-3 /proc/loadavg)"

## The race detector over the pure-Go packages: those whose closure, tests included, has no cgo (DuckDB's
## binding is cgo). tests/packages.sh race derives the list; make test runs this.
race:
	pkgs="$$(bash tests/packages.sh race)" && $(GO) test -tags $(TAGS) -count=1 -race -shuffle=on -timeout 30m $$pkgs

vet:
	$(GO) vet -tags $(TAGS) ./...

fmt:
	gofmt -w $$(git ls-files -co --exclude-standard '*.go')

clean:
	rm -rf pulse .build cdk.out demo-data bench-out
