# xipc front door. Four configurations, one folder each under build/.
#   make           build native, m32, win64, win32
#   make test      build everything (plus an ASan+UBSan build) and run the whole suite
#                  (plus TSan on the threaded tests, valgrind, 30 s per fuzz target)
#   make fuzz      each libFuzzer target for FUZZ_SECONDS (default 300)
#   make demo      a 32-bit and a 64-bit process over shm://, then the benchmark;
#                  then a Windows xipc.exe (wine64) and this xipc, and its table
#   make bench     the shared-memory benchmark, also against a 32-bit peer
#   make soak      the crash tests with 5000 kills per transport (KILLS=n to change)
#   make install   the native build into PREFIX (default /usr/local), under DESTDIR
#                  if given: library, headers, xipc, pkg-config, CMake, man pages
#   make clean
JOBS ?= 2
B := $(CURDIR)/build
CMAKE ?= cmake

.PHONY: all deps native m32 win64 win32 asan test demo bench install clean
.PHONY: tsan fuzz-build fuzz

all: native m32 win64 win32

deps:
	@sh scripts/deps.sh

m32: deps
	$(CMAKE) -S . -B $(B)/m32 -DCMAKE_TOOLCHAIN_FILE=cmake/m32.cmake \
		-DXIPC_HELPER64=$(abspath $(B))/native/tools/xipc/xipc >/dev/null
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

# ThreadSanitizer build: the tsan_suite runs its threaded tests (docs/testing.md)
tsan: deps
	$(CMAKE) -S . -B $(B)/tsan -DCMAKE_C_COMPILER=clang \
		-DXIPC_SANITIZE=thread >/dev/null
	$(CMAKE) --build $(B)/tsan -j$(JOBS)

# libFuzzer targets (docs/testing.md): make fuzz runs each FUZZ_SECONDS
# on a copy of its seed corpus; make test runs each for 30 s.
FUZZ_SECONDS ?= 300
fuzz-build: deps
	$(CMAKE) -S . -B $(B)/fuzz -DCMAKE_C_COMPILER=clang -DXIPC_FUZZ=ON >/dev/null
	$(CMAKE) --build $(B)/fuzz -j$(JOBS) --target fuzz_targets

fuzz: fuzz-build
	sh scripts/fuzz.sh -b $(B)/fuzz $(FUZZ_SECONDS)

# native runs the other configurations' suites from its own ctest run
native: deps m32 win64 win32 asan
	$(CMAKE) -S . -B $(B)/native -DXIPC_M32_PEER=$(B)/m32/tests/xbit_peer \
		-DXIPC_M32_PUBSUB_PEER=$(B)/m32/tests/pubsub_peer \
		-DXIPC_M32_RPC_PEER=$(B)/m32/tests/rpc_peer \
		-DXIPC_M32_BUILD=$(B)/m32 -DXIPC_ASAN_BUILD=$(B)/asan \
		-DXIPC_WIN64_BUILD=$(B)/win64 -DXIPC_WIN32_BUILD=$(B)/win32 \
		-DXIPC_TSAN_BUILD=$(B)/tsan -DXIPC_FUZZ_BUILD=$(B)/fuzz >/dev/null
	$(CMAKE) --build $(B)/native -j$(JOBS)
native: tsan fuzz-build

test: native
	cd $(B)/native && ctest --output-on-failure -j$(JOBS) || \
		{ sh $(CURDIR)/scripts/test-failures.sh $(B)/native; exit 1; }

# the Windows part needs only win64's xipc.exe, and only where wine64 can run
# it (scripts/demo-windows.sh says why it skips otherwise)
demo: deps
	$(MAKE) --no-print-directory m32 >/dev/null
	$(CMAKE) -S . -B $(B)/native >/dev/null
	$(CMAKE) --build $(B)/native -j$(JOBS) >/dev/null
	if [ -x /usr/lib/wine/wine64 ] || command -v wine64 >/dev/null; then \
		$(CMAKE) -S . -B $(B)/win64 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake >/dev/null && \
		$(CMAKE) --build $(B)/win64 -j$(JOBS) --target xipc_cli >/dev/null; fi
	sh scripts/demo.sh $(B)

bench: deps
	$(MAKE) --no-print-directory m32 >/dev/null
	$(CMAKE) -S . -B $(B)/native >/dev/null
	$(CMAKE) --build $(B)/native -j$(JOBS) >/dev/null
	$(B)/native/tools/xipc/xipc bench shm --peer32 $(B)/m32/tools/xipc/xipc

# crash tests, long (docs/fault.md); make test runs them with 200 kills
.PHONY: soak
KILLS ?= 5000
soak: deps
	$(CMAKE) -S . -B $(B)/native >/dev/null
	$(CMAKE) --build $(B)/native -j$(JOBS) >/dev/null
	sh scripts/soak.sh $(B)/native $(KILLS)

# docs/install.md. Only the native configuration: the others' libraries
# would land on the same names. PREFIX is the build's install prefix
# (cached in build/native); DESTDIR stages the tree for a package.
PREFIX ?= /usr/local
install: deps
	$(CMAKE) -S . -B $(B)/native -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	$(CMAKE) --build $(B)/native -j$(JOBS)
	DESTDIR=$(DESTDIR) $(CMAKE) --install $(B)/native

clean:
	rm -rf $(B)
