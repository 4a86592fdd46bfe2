# xipc front door. Four configurations, one folder each under build/.
#   make           build native, m32, win64, win32
#   make test      build everything (plus an ASan+UBSan build) and run the whole suite
#   make demo      a 32-bit and a 64-bit process over shm://, then the benchmark
#   make bench     the shared-memory benchmark
#   make soak      the crash tests with 5000 kills per transport (KILLS=n to change)
#   make clean
JOBS ?= 2
B := $(CURDIR)/build
CMAKE ?= cmake

.PHONY: all deps native m32 win64 win32 asan test demo bench clean

all: native m32 win64 win32

deps:
	@sh scripts/deps.sh

m32: deps
	$(CMAKE) -S . -B $(B)/m32 -DCMAKE_TOOLCHAIN_FILE=cmake/m32.cmake >/dev/null
	$(CMAKE) --build $(B)/m32 -j$(JOBS)

win64: deps
	$(CMAKE) -S . -B $(B)/win64 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake >/dev/null
	$(CMAKE) --build $(B)/win64 -j$(JOBS)

win32: deps
	$(CMAKE) -S . -B $(B)/win32 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w32.cmake >/dev/null
	$(CMAKE) --build $(B)/win32 -j$(JOBS)

asan: deps
	$(CMAKE) -S . -B $(B)/asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DXIPC_SANITIZE=address,undefined >/dev/null
	$(CMAKE) --build $(B)/asan -j$(JOBS)

# native runs the other configurations' suites from its own ctest run
native: deps m32 win64 win32 asan
	$(CMAKE) -S . -B $(B)/native -DXIPC_M32_PEER=$(B)/m32/tests/xbit_peer \
		-DXIPC_M32_PUBSUB_PEER=$(B)/m32/tests/pubsub_peer \
		-DXIPC_M32_RPC_PEER=$(B)/m32/tests/rpc_peer \
		-DXIPC_M32_BUILD=$(B)/m32 -DXIPC_ASAN_BUILD=$(B)/asan \
		-DXIPC_WIN64_BUILD=$(B)/win64 -DXIPC_WIN32_BUILD=$(B)/win32 >/dev/null
	$(CMAKE) --build $(B)/native -j$(JOBS)

test: native
	cd $(B)/native && ctest --output-on-failure -j$(JOBS)

demo: deps
	$(MAKE) --no-print-directory m32 >/dev/null
	$(CMAKE) -S . -B $(B)/native >/dev/null
	$(CMAKE) --build $(B)/native -j$(JOBS) >/dev/null
	sh scripts/demo.sh $(B)

bench: deps
	$(CMAKE) -S . -B $(B)/native >/dev/null
	$(CMAKE) --build $(B)/native -j$(JOBS) >/dev/null
	$(B)/native/tools/xipc/xipc bench shm

# crash tests, long (docs/fault.md); make test runs them with 200 kills
.PHONY: soak
KILLS ?= 5000
soak: deps
	$(CMAKE) -S . -B $(B)/native >/dev/null
	$(CMAKE) --build $(B)/native -j$(JOBS) >/dev/null
	sh scripts/soak.sh $(B)/native $(KILLS)

clean:
	rm -rf $(B)
