# Thin wrapper over CMake presets. `make demo` and `make test` install the
# Debian packages they need first (scripts/install-deps.sh).
JOBS ?= 2
.PHONY: deps demo tour test release debug asan asan-test coverage bench api-check clean

deps:
	@./scripts/install-deps.sh

release: deps
	cmake --preset release >/dev/null && cmake --build --preset release -j$(JOBS)

debug: deps
	cmake --preset debug >/dev/null && cmake --build --preset debug -j$(JOBS)

# The main demo: the Fashion-MNIST CNN, one traced epoch plus a short eager
# run (build/release/fashion_mnist --epochs 8 --mode traced for the full
# training). DEMO_ARGS passes other options.
demo: release
	cd build/release && ./fashion_mnist $(DEMO_ARGS)

tour: release
	./build/release/quickstart

test: debug
	ctest --preset debug

asan: deps
	cmake --preset asan >/dev/null && cmake --build --preset asan -j$(JOBS)

asan-test: asan
	ctest --preset asan

coverage: deps
	cmake --preset coverage >/dev/null && cmake --build --preset coverage -j$(JOBS) && ctest --preset coverage

bench:
	./scripts/install-deps.sh --oracles
	./bench/run.sh

api-check:
	../shared/contract/check-api.sh include

clean:
	rm -rf build
