# autoradio: build, test and run a node on this machine.
#   make run    one working cluster node here (embedded etcd, demo mount)
#   make test   the whole test suite (installs what it needs first)

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
export PATH := $(dir $(GO)):$(PATH)
BIN := bin
CMDS := radiod redirectord radioctl

# Debian packages the programs and the tests need at run time.
RUNTIME_PKGS := icecast2 liquidsoap ffmpeg etcd-server etcd-client ezstream \
	bind9-dnsutils curl iproute2 procps ca-certificates openssl

# The real source clients and players that test/e2e/compat_test.go and
# hls_test.go run (ezstream and liquidsoap are above; GStreamer's HLS is in
# plugins-bad); a missing one fails make test.
TEST_PKGS := ices2 darkice gstreamer1.0-tools gstreamer1.0-plugins-base \
	gstreamer1.0-plugins-good gstreamer1.0-plugins-bad mpv mpg123 vlc-bin vlc-plugin-base
# promtool, which checks docs/prometheus-alerts.yml (test/e2e/status_test.go).
TEST_PKGS += prometheus

.PHONY: all build test unit-test vet run deps clean cluster-test cluster fuzz screenshots

all: build

build:
	$(GO) build -o $(BIN)/ $(addprefix ./cmd/,$(CMDS))

# Pebble, the ACME test server of the HTTPS tests (internal/pebbletest
# installs it too when it is missing).
PEBBLE := github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3

deps:
	@scripts/install-deps $(RUNTIME_PKGS) $(TEST_PKGS)
	@scripts/install-browser-deps
	$(GO) mod download
	@[ -x $(BIN)/pebble ] || GOBIN=$(CURDIR)/$(BIN) $(GO) install $(PEBBLE)

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

test: deps vet
	$(GO) test -count=1 -timeout 25m ./...

# fuzz runs every Go fuzz target for FUZZTIME (default 30s) each; make test
# already runs their seed corpora and the failures committed in testdata/fuzz.
# FUZZFLAGS passes options to go test, e.g. FUZZFLAGS=-parallel=1.
FUZZTIME ?= 30s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZFLAGS="$(FUZZFLAGS)" scripts/fuzz

# screenshots renews docs/status-390.png and docs/status-1400.png: the
# status page of a real two-node cluster in headless Chromium.
screenshots: deps
	AUTORADIO_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -run 'TestStatusPage$$' ./test/e2e/

# unit-test runs only the tests that need no external program.
unit-test:
	$(GO) test -count=1 -short ./...

run: deps build
	scripts/run-node

# Fault-injection tests on a real 3-node cluster in network namespaces
# (test/cluster, build tag "cluster"; needs root). The table of figures is
# printed at the end and kept in bin/cluster-report.md.
CLUSTER_REPORT := $(CURDIR)/$(BIN)/cluster-report.md

cluster-test: deps
	@mkdir -p $(BIN); rm -f $(CLUSTER_REPORT)
	CLUSTER_REPORT=$(CLUSTER_REPORT) $(GO) test -tags cluster -count=1 -timeout 15m ./test/cluster/...; \
	rc=$$?; [ -f $(CLUSTER_REPORT) ] && cat $(CLUSTER_REPORT); exit $$rc

# make cluster: the same 3-node cluster, left running until Ctrl-C.
cluster: deps
	@mkdir -p $(BIN)
	$(GO) test -c -tags cluster -o $(BIN)/cluster.test ./test/cluster
	CLUSTER_HOLD=1 $(BIN)/cluster.test -test.run '^TestHold$$' -test.timeout 0 -test.v

clean:
	rm -rf $(BIN) dist

# Debian packages (see debian/rules and scripts/build-deb).
#   make deb       autoradio-server and autoradio-client .deb files into dist/
#   make deb-test  installs them in a fresh Debian bookworm chroot and checks them
.PHONY: deb deb-deps deb-test

DEB_BUILD_PKGS := debhelper dpkg-dev fakeroot help2man lintian debootstrap

deb-deps:
	@scripts/install-deps $(DEB_BUILD_PKGS)

deb: deb-deps
	$(GO) mod download
	GO=$(GO) scripts/build-deb dist

deb-test: deb
	scripts/deb-test dist

# Benchmarks side by side with nginx, Knot DNS and Icecast alone (see
# docs/BENCHMARKS.md, which `make bench` rewrites with docs/bench-fanout.png).
# BENCH_REF=HEAD measures a git ref instead of the working tree;
# BENCH_ARGS passes options to the bench (e.g. "-bench.runs 1"); sections
# nest as internals, frontend (redirects, dns, fanout, tls), cluster (convergence,
# failover, etcd) and hls: "-bench.only redirects,dns" runs the frontend set-up and
# those two, and merges them into the existing report.
.PHONY: bench bench-deps

BENCH_PKGS := nginx knot wrk dnsperf gnuplot-nox

bench-deps:
	@scripts/install-deps $(BENCH_PKGS)

bench: deps bench-deps
	GO=$(GO) BENCH_REF="$(BENCH_REF)" BENCH_ARGS="$(BENCH_ARGS)" bench/run
