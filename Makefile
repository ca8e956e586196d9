# Developer tasks for wgflow (GNU make; not part of the package build, which
# uses configure + src/Makevars). `make test` is what CI runs (.ci/run).

SHELL := /bin/bash
R ?= R
RSCRIPT ?= Rscript
PYTHON ?= /usr/bin/python3
# not inst/demo: R reserves demo/ in an installed package (check WARNING)
DEMO ?= inst/scripts/demo.R

PKG := wgflow
VERSION := $(shell sed -n 's/^Version:[[:space:]]*//p' DESCRIPTION)
BUILD_DIR := build
TARBALL := $(BUILD_DIR)/$(PKG)_$(VERSION).tar.gz
LIB := $(abspath $(BUILD_DIR)/lib)
WITH_LIB := R_LIBS="$(LIB)$${R_LIBS:+:$$R_LIBS}"

# everything that goes into the tarball, so it is rebuilt when one changes
PKG_FILES := $(shell find DESCRIPTION NAMESPACE LICENSE configure cleanup .Rbuildignore \
  R src man inst vignettes tests -type f ! -name '*.o' ! -name '*.so' \
  ! -name Makevars ! -path 'tests/c/build/*' 2>/dev/null)

.PHONY: all test deps build check-cpu check-cuda ctest sanitize install site \
  demo fixtures bench document clean

all: build

# What CI runs, in this order (sequential even under make -j).
test:
	$(MAKE) deps
	.ci/test-check-log
	$(MAKE) ctest
	$(MAKE) sanitize
	$(MAKE) check-cpu
	$(MAKE) check-cuda
	$(MAKE) site

deps:
	.ci/install-deps

# The source tarball, vignettes built. CPU-only while building: the vignettes
# run on the CPU and nvcc would only cost time.
build: $(TARBALL)

$(TARBALL): $(PKG_FILES)
	@mkdir -p $(BUILD_DIR)
	rm -f $(TARBALL)
	cd $(BUILD_DIR) && WGFLOW_CUDA=0 $(R) CMD build ..
	@ls -l $(TARBALL)

# R CMD check --as-cran --no-manual of the tarball; fail on any ERROR,
# WARNING or NOTE but the clock one a machine without network gets
# (.ci/check-log).
check-cpu: $(TARBALL)
	.ci/check cpu $(TARBALL)

check-cuda: $(TARBALL)
	.ci/check cuda $(TARBALL)

# Standalone C tests of the core (no R), plain and under ASan + UBSan.
ctest:
	$(MAKE) -C tests/c

sanitize:
	$(MAKE) -C tests/c asan

# Installs the working tree into build/lib (CUDA when configure finds it).
# from the source tarball, which carries the built vignettes (an install of
# the source tree would have none)
install: $(TARBALL)
	@mkdir -p $(LIB)
	$(R) CMD INSTALL --preclean --no-multiarch --library=$(LIB) $(TARBALL)

# The documentation site (pkgdown, _pkgdown.yml) in build/site, from the
# package installed in build/lib: stops on a topic missing from the
# reference index and on an article or example that fails.
site: deps install
	$(WITH_LIB) $(RSCRIPT) -e 'pkgdown::check_pkgdown()' \
	  -e 'pkgdown::build_site(install = FALSE, new_process = FALSE, preview = FALSE)'

demo: deps install
	$(WITH_LIB) $(RSCRIPT) $(DEMO)

fixtures:
	$(PYTHON) inst/fixtures/make_fixtures.py

# The benchmarks' peer as a user installs it today: PyTorch (MKL, oneDNN),
# numpy and POT, current releases from PyPI, in a venv of their own; every
# bench/*.R uses it when it exists (bench/machine.R, bench_python()). The
# DCGAN fixtures need it too (torch >= 2).
BENCH_VENV := $(BUILD_DIR)/bench-venv
$(BENCH_VENV)/bin/python:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet torch numpy POT
.PHONY: bench-venv fixtures-dcgan bench-dcgan
bench-venv: $(BENCH_VENV)/bin/python
	$(BENCH_VENV)/bin/python -c 'import torch, ot; print("torch", torch.__version__, "POT", ot.__version__)'

fixtures-dcgan: $(BENCH_VENV)/bin/python
	$(BENCH_VENV)/bin/python inst/fixtures/make_dcgan_fixtures.py

# One WGAN-GP iteration of the DCGAN pair on 28 x 28 images against PyTorch
# from PyPI, 1 and 2 threads each.
bench-dcgan: install $(BENCH_VENV)/bin/python
	$(WITH_LIB) $(RSCRIPT) bench/dcgan.R

bench: install $(BENCH_VENV)/bin/python
	$(WITH_LIB) $(RSCRIPT) bench/engine.R

# The prepared check of the CUDA backend on a GPU machine (no R needed):
# parity, whole epochs, compute-sanitizer, memory, GPU benchmarks.
GPU_CHECK_OUT ?= build/gpu-check
.PHONY: gpu-check
gpu-check:
	tools/gpu-check $(GPU_CHECK_OUT)

.PHONY: bench-w1fe
bench-w1fe: install $(BENCH_VENV)/bin/python
	$(WITH_LIB) $(RSCRIPT) bench/w1fe.R

.PHONY: bench-rwp
bench-rwp: install $(BENCH_VENV)/bin/python
	$(WITH_LIB) $(RSCRIPT) bench/rwp.R 300 3 128
	$(WITH_LIB) $(RSCRIPT) bench/rwp.R 300 3 2

.PHONY: bench-w2gan
bench-w2gan: install $(BENCH_VENV)/bin/python
	$(WITH_LIB) $(RSCRIPT) bench/w2gan.R

# The CPU benchmarks again with the AVX-512 code paths left out
# (WGFLOW_CPU_ISA=avx2, installed to build/lib-avx2): on an AVX-512 machine,
# what an AVX2-only machine runs. The benchmarks print the path taken.
LIB_AVX2 := $(abspath $(BUILD_DIR)/lib-avx2)
.PHONY: bench-isa
bench-isa:
	@mkdir -p $(LIB_AVX2)
	WGFLOW_CPU_ISA=avx2 $(R) CMD INSTALL --preclean --no-multiarch --library=$(LIB_AVX2) .
	R_LIBS="$(LIB_AVX2)" $(RSCRIPT) bench/engine.R
	R_LIBS="$(LIB_AVX2)" $(RSCRIPT) bench/w1fe.R 150

# The MLP's and the convolutions' matrix products alone, at each kernel
# width, with their share of the FMA peak
.PHONY: bench-products
bench-products:
	@mkdir -p $(BUILD_DIR)/bench
	gcc -std=gnu11 -O2 -fopenmp -Isrc/core -Isrc/cpu -o $(BUILD_DIR)/bench/products \
	  bench/products.c src/cpu/*.c src/core/status.c -lm
	$(BUILD_DIR)/bench/products 1
	$(BUILD_DIR)/bench/products 2

.PHONY: bench-ots
bench-ots: $(BENCH_VENV)/bin/python
	$(RSCRIPT) bench/ots.R

.PHONY: bench-ot
bench-ot: install $(BENCH_VENV)/bin/python
	$(WITH_LIB) $(RSCRIPT) bench/ot.R

# Regenerates NAMESPACE and man/ from the roxygen comments.
document:
	$(RSCRIPT) -e 'roxygen2::roxygenise(load_code = roxygen2::load_source)'

clean:
	./cleanup
	rm -rf $(BUILD_DIR) $(PKG).Rcheck
	-if [ -f tests/c/Makefile ]; then $(MAKE) -C tests/c clean; fi
