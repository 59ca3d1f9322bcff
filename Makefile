# promwatch — the README's two commands are `make demo` and `make test`; both set themselves up.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAM_VENV ?= .venv-sam
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY := 0
PY312 := $(shell ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12.*/bin 2>/dev/null | tail -n 1)

.PHONY: demo test test-unit test-functional test-integration test-e2e conformance lint build validate bench fuzz system-deps clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

$(VENV)/.fuzz-installed: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,fuzz]'
	touch $@

$(SAM_VENV)/.installed:
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --upgrade pip
	$(SAM_VENV)/bin/pip install -q aws-sam-cli cfn-lint
	touch $@

# Every program the tests run besides Python (scripts/system-deps.sh): Debian's prometheus-node-exporter and
# prometheus, Node's prom-client (the real exporters of the e2e tests), dnsmasq (the DNS server of the
# dns_sd_configs tests), openssl (the functional TLS tests' certificates). A test missing one fails, never skips.
system-deps:
	bash scripts/system-deps.sh

demo: $(STAMP)
	$(VENV)/bin/promwatch demo

test: $(STAMP) system-deps validate build
	$(PY) -m pytest tests -q
	$(PY) ../shared/conformance/run_openmetrics.py $(abspath $(VENV))/bin/promwatch

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

test-functional: $(STAMP) system-deps
	$(PY) -m pytest tests/functional -q

test-integration: $(STAMP)
	$(PY) -m pytest tests/integration -q

test-e2e: $(STAMP) system-deps
	$(PY) -m pytest tests/e2e -q

lint: $(STAMP)
	$(VENV)/bin/ruff check layers tools functions tests benchmarks fuzz
	$(VENV)/bin/mypy

# The stack as deployed into a VPC, with its endpoints and every discovery API: linted as a copy
# whose parameter defaults are these values (sam validate takes no parameter values).
VPC_PARAMETERS := SubnetIds=subnet-0a1b2c3d4e5f60718,subnet-0f1e2d3c4b5a69788 \
	SecurityGroupIds=sg-0a1b2c3d4e5f60718,sg-0f1e2d3c4b5a69788 CreateVpcEndpoints=true \
	VpcId=vpc-0a1b2c3d4e5f60718 RouteTableIds=rtb-0a1b2c3d4e5f60718,rtb-0f1e2d3c4b5a69788 \
	DiscoveryApis=ec2,ecs,eks,sts ScrapeConfigSource=s3://bucket/scrape.yaml Output=logs \
	ScrapeSecretArns=arn:aws:ssm:us-east-1:123456789012:parameter/token,arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint --region us-east-1
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(SAM_VENV)/bin/python scripts/template_variant.py template.yaml .aws-sam/variants/template-vpc.json $(VPC_PARAMETERS)
	$(SAM) validate --lint --region us-east-1 -t .aws-sam/variants/template-vpc.json
	$(SAM_VENV)/bin/cfn-lint .aws-sam/variants/template-vpc.json

build: $(STAMP) $(SAM_VENV)/.installed
	PATH="$(PY312):$$PATH" $(SAM) build
	@# the library layer must carry its compiled bytecode (layers/promwatch/Makefile)
	@test -n "$$(find .aws-sam/build/PromwatchLayer/python/promwatch -name '*.cpython-312.pyc' -print -quit)" \
		|| { echo "make build: the library layer has no python3.12 bytecode" >&2; exit 1; }
	@# and the runtime only: every module a handler imports, no CLI, demo or emulator module
	$(PY) -m promwatch_tools.layercheck .aws-sam/build/PromwatchLayer/python functions/*/app.py

bench: $(STAMP) system-deps
	$(PY) -m benchmarks --json benchmarks/results.json

# Not part of `make test`: FUZZ_RUNS inputs in all, split between the harnesses of fuzz/ by
# share, FUZZ_JOBS harnesses at a time; crashing inputs are saved under fuzz/crashes/.
FUZZ_RUNS ?= 1000000
FUZZ_JOBS ?= 2
fuzz: $(VENV)/.fuzz-installed
	$(PY) -m fuzz --inputs $(FUZZ_RUNS) --jobs $(FUZZ_JOBS)

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam build .pytest_cache fuzz/work
