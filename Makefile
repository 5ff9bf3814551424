# The two commands of the README are `make run` and `make test`.

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
# Speech engines in C, when cgo works (a C compiler is installed):
# sherpa-onnx (its libraries come with its Go module), and Debian's
# pocketsphinx when its development package is installed. Expanded when
# used, so after `deps` has installed what it installs.
TAGS         = $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && echo sherpa && pkg-config --exists pocketsphinx sphinxbase 2>/dev/null && echo pocketsphinx)

.PHONY: run build web deps test lint go-test fuzz e2e clean

## run: start Visio with embedded defaults on http://127.0.0.1:8080
run:
	$(GO) run -tags "$(TAGS)" ./cmd/visio serve $(ARGS)

## build: build bin/visio (the web app in web/dist is embedded as committed)
## and bin/visio-load, the load generator
build:
	$(GO) build -tags "$(TAGS)" -o bin/visio ./cmd/visio
	$(GO) build -o bin/visio-load ./cmd/visio-load

## web: type-check the web app and rebuild web/dist from web/src
web: deps
	cd web && npm run --silent check && npm run --silent build

## deps: install what the tests need (Chromium, Node packages) if missing
deps:
	scripts/deps.sh

## test: every test: lint, Go tests with the race detector (on SQLite and a
## private PostgreSQL, login through a LemonLDAP::NG provider), fuzz seeds and a
## short fuzz run, browser tests in Chromium
test: web build lint go-test fuzz e2e

lint:
	@unformatted=$$(gofmt -l cmd internal web/embed.go); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags "$(TAGS)" ./...
	$(GO) run $(STATICCHECK) -tags "$(TAGS)" ./...

go-test:
	VISIO_REQUIRE_TEST_SERVICES=1 $(GO) test -race -count=1 -tags "$(TAGS)" ./...

## fuzz: run each fuzz target for FUZZTIME (new findings land in testdata/fuzz)
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

e2e: build
	cd web && npm run --silent test:e2e

clean:
	rm -rf bin test-artifacts
