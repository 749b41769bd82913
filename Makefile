# SPDX-License-Identifier: GPL-2.0
# Top-level build: the module (through Kbuild), the C++ tools and the tests.
#   make            module + tools + test programs
#   make deps       install what the project needs (Debian 12, idempotent)
#   make check      deps, build, lint, host unit tests, then the VM suite
#   make lint       checkpatch, sparse, clang-format, shellcheck (scripts/lint.sh)
#   make demo       the seed scenario in the VM (one writer, three readers)
#   make vm-shell   a shell inside the test VM with the module loaded
#   make check-debug  the VM suite under a KASAN/KMEMLEAK/lockdep kernel (slow, root)
#   make deb        Debian packages in build/deb/ (dpkg-buildpackage in a scratch copy)
#   make check-deb  those packages installed, used in the VM and purged, in a chroot
#   make check-desktop  PipeWire, browsers and OBS against the module in the VM (slow)
#   make check-hostile  unprivileged adversaries, scarce memory, unbounded waits (VM)
#   make soak       SOAK_MINUTES (30) of mixed clients, adversaries and add/remove (VM)

KERNELRELEASE ?= $(shell scripts/kernel-version.sh)
KERNEL_DIR ?= /lib/modules/$(KERNELRELEASE)/build
BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=

CXX ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++20 -Wall -Wextra -Werror -Iinclude -Iutils
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer
AV_LIBS := $(shell pkg-config --libs libavformat libavcodec libswscale libavutil 2>/dev/null)

UTIL_LIB_SRC := $(filter-out utils/main.cpp,$(wildcard utils/*.cpp))
PROG_SRC := $(wildcard tests/progs/*.cpp)
PROGS := $(patsubst tests/progs/%.cpp,$(BUILD)/tests/%,$(PROG_SRC))
PROG_C_SRC := $(wildcard tests/progs/*.c)
PROGS += $(patsubst tests/progs/%.c,$(BUILD)/tests/%,$(PROG_C_SRC))
# a 32-bit build of the raw control-device client: exercises compat_ioctl
# (needs gcc-multilib, installed by make deps; without it the VM case says so)
PROGS += $(if $(shell echo 'int main(void){return 0;}' | $(CC) -m32 -static -x c -o /dev/null - 2>/dev/null && echo y),$(BUILD)/tests/lb-ctlraw32)
# 32-bit builds of the content-checking writer and reader (and the program
# library they link): every video-node ioctl through the kernel's compat layer
# (tests/vm/cases/28-compat32.sh; needs g++-multilib, installed by make deps)
M32_PROGS := lb-writer lb-reader
M32_CXX_OK := $(shell echo 'int main(){return 0;}' | $(CXX) -m32 -x c++ -o /dev/null - 2>/dev/null && echo y)
PROGS += $(if $(M32_CXX_OK),$(patsubst %,$(BUILD)/tests/m32/%,$(M32_PROGS)))
HOST_TEST_SRC := $(wildcard tests/host/*.cpp)

.PHONY: all module tools progs deps check check-host check-vm demo bench vm-shell \
	clean install uninstall check-matrix sign check-debug deb check-deb ctl-docs lint check-desktop \
	check-hostile soak

all: module tools progs

module:
	$(MAKE) -C $(KERNEL_DIR) M=$(CURDIR) modules

tools: $(if $(wildcard utils/main.cpp),$(BUILD)/v4l2loopback-ctl)

$(BUILD)/v4l2loopback-ctl: utils/main.cpp $(UTIL_LIB_SRC) $(wildcard utils/*.h) include/linux/v4l2loopback.h
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) $(LDFLAGS) -o $@ utils/main.cpp $(UTIL_LIB_SRC) $(AV_LIBS)

# The bash completion and the man page's COMMANDS section are made from the
# verb table (utils/verbs.cpp); a host test fails while they are out of date.
$(BUILD)/ctl-docs: utils/gen/ctl-docs.cpp $(UTIL_LIB_SRC) $(wildcard utils/*.h) include/linux/v4l2loopback.h
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -o $@ utils/gen/ctl-docs.cpp $(UTIL_LIB_SRC) $(AV_LIBS)

ctl-docs: $(BUILD)/ctl-docs
	$(BUILD)/ctl-docs .

progs: $(PROGS)

# The test programs share the tool's small library: the video device (its fd,
# open, named ioctl and typed calls), the move-only Fd and the errno names
# (utils/device.*, utils/sys.*, utils/errors.*, and what device.cpp uses).
PROG_LIB_SRC := utils/device.cpp utils/args.cpp utils/formats.cpp utils/errors.cpp utils/sys.cpp
PROG_LIB_OBJ := $(patsubst utils/%.cpp,$(BUILD)/obj/proglib/%.o,$(PROG_LIB_SRC))
.SECONDARY: $(PROG_LIB_OBJ)

$(BUILD)/obj/proglib/%.o: utils/%.cpp $(wildcard utils/*.h)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/progs/%.cpp $(wildcard tests/progs/*.h) $(PROG_LIB_OBJ) include/linux/v4l2loopback.h
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -pthread -o $@ $< $(PROG_LIB_OBJ)

PROG_LIB_OBJ32 := $(patsubst utils/%.cpp,$(BUILD)/obj/proglib32/%.o,$(PROG_LIB_SRC))
.SECONDARY: $(PROG_LIB_OBJ32)

$(BUILD)/obj/proglib32/%.o: utils/%.cpp $(wildcard utils/*.h)
	@mkdir -p $(@D)
	$(CXX) -m32 $(CXXFLAGS) -c -o $@ $<

$(BUILD)/tests/m32/%: tests/progs/%.cpp $(wildcard tests/progs/*.h) $(PROG_LIB_OBJ32) include/linux/v4l2loopback.h
	@mkdir -p $(@D)
	$(CXX) -m32 $(CXXFLAGS) -pthread -o $@ $< $(PROG_LIB_OBJ32)

$(BUILD)/tests/%: tests/progs/%.c include/linux/v4l2loopback.h
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -Iinclude -o $@ $<

$(BUILD)/tests/lb-ctlraw32: tests/progs/lb-ctlraw.c include/linux/v4l2loopback.h
	@mkdir -p $(@D)
	$(CC) -m32 -static -O2 -g -Wall -Wextra -Werror -Iinclude -o $@ $<

# host unit tests: one object per source (parallel, incremental), sanitizers on;
# the module's pure files (HOST_KSRC) are built as C against tests/host/kshim
HOST_KSRC := src/formats.c
HOST_OBJ := $(patsubst %.cpp,$(BUILD)/obj/%.o,$(HOST_TEST_SRC) $(UTIL_LIB_SRC)) \
	$(patsubst %.c,$(BUILD)/obj/host/%.o,$(HOST_KSRC))

$(BUILD)/obj/host/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror $(SANITIZE) -Itests/host/kshim -MMD -MP -c -o $@ $<

$(BUILD)/obj/tests/host/kformats_test.o: CXXFLAGS += -Itests/host/kshim

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(SANITIZE) -Itests/progs -DLB_SOURCE_DIR='"$(CURDIR)"' -MMD -MP -c -o $@ $<

-include $(HOST_OBJ:.o=.d)

$(BUILD)/host-tests: $(HOST_OBJ)
	$(CXX) $(CXXFLAGS) $(SANITIZE) -o $@ $(HOST_OBJ) $(AV_LIBS) -lgtest -lgtest_main -pthread

deps:
	scripts/deps.sh

# checkpatch --strict (src/, include/), sparse (C=2), clang-format (C++),
# shellcheck; zero findings or a reasoned line in scripts/lint-exceptions.
lint:
	BUILD=$(BUILD) KERNEL_DIR=$(KERNEL_DIR) scripts/lint.sh

check-host: $(BUILD)/host-tests
	tests/run-host.sh $(BUILD)

check-vm: all
	tests/vm/run.sh --kernel $(KERNELRELEASE) $(if $(T),--only "$(T)")

check: deps
	$(MAKE) -j$(shell nproc) all $(BUILD)/host-tests
	tests/check.sh $(KERNELRELEASE)

demo: deps
	$(MAKE) all
	tests/vm/run.sh --kernel $(KERNELRELEASE) --demo

# ours vs Debian's old driver (v4l2loopback-dkms) in one VM boot; T filters rows
bench: deps
	$(MAKE) all
	ko=$$(scripts/bench-deps.sh $(KERNELRELEASE)) && \
		tests/vm/run.sh --kernel $(KERNELRELEASE) --bench --old-ko "$$ko" $(if $(T),--only "$(T)")

# Desktop programs (PipeWire/WirePlumber, Chromium, Firefox, OBS) in the VM:
# tests/vm/desktop/*.sh; their packages come from scripts/desktop-deps.sh (root).
# T filters cases as for check-vm. docs/desktop.md.
check-desktop: deps
	scripts/desktop-deps.sh
	$(MAKE) all
	LB_TEST_CASES=tests/vm/desktop tests/vm/run.sh --kernel $(KERNELRELEASE) \
		$(if $(T),--only "$(T)") --save-logs $(BUILD)/vm-desktop

# Hostile users and scarce memory (tests/vm/hostile/*.sh): unprivileged
# adversaries beside a legitimate stream, and waits on a never-ending copy.
# Some checks fail until the driver has a per-device memory budget, so this
# is its own lane, not part of make check. T filters cases as for check-vm.
check-hostile: deps
	$(MAKE) all
	LB_TEST_CASES=tests/vm/hostile tests/vm/run.sh --kernel $(KERNELRELEASE) \
		$(if $(T),--only "$(T)") --save-logs $(BUILD)/vm-hostile

# A long mixed run in the VM (tests/vm/soak/soak.sh): real clients (ffmpeg,
# GStreamer, v4l2-ctl), our checkers, the adversaries and device add/remove
# for SOAK_MINUTES (default 30); then no splat and no growth in slab, vmalloc
# or the driver's page counts.
SOAK_MINUTES ?= 30
soak: deps
	$(MAKE) all
	LB_TEST_CASES=tests/vm/soak LB_TEST_SOAK_MINUTES=$(SOAK_MINUTES) tests/vm/run.sh \
		--kernel $(KERNELRELEASE) --timeout $$(( $(SOAK_MINUTES) * 60 + 900 )) \
		--save-logs $(BUILD)/vm-soak

vm-shell: all
	tests/vm/run.sh --kernel $(KERNELRELEASE) --shell

# Build + VM subset on Debian bookworm, trixie and sid kernels (root; caches in
# build/matrix/; MATRIX_ARGS e.g. "--suites sid --force", see scripts/matrix.sh).
check-matrix: tools progs
	scripts/matrix.sh $(MATRIX_ARGS)

# The VM suite under a KASAN/KMEMLEAK/lockdep/UBSAN kernel built from Debian's
# linux-source-6.1 (root; built once, ~30-50 min, cached in build/debug-kernel/;
# T filters cases as for check-vm; more in scripts/debug-kernel.sh).
check-debug: tools progs
	$(if $(T),DEBUG_VM_ARGS="--only '$(T)'") scripts/debug-kernel.sh check

# Debian packages v4l2loopback-vb2-dkms and v4l2loopback-vb2-utils (debian/), built
# with dpkg-buildpackage -us -uc -b in a scratch copy and checked by lintian;
# the .deb files land in build/deb/.
deb:
	scripts/make-deb.sh $(CURDIR)/$(BUILD)/deb

# The packages installed, used in the VM (modprobe by name) and purged, also over
# Debian's old v4l2loopback-dkms, in a debootstrap chroot (root; made once in
# build/deb-test/, ~1.3 GB); nothing is installed on the host. Not part of make check
# (about 4-5 minutes with the package build).
# The host unit tests are skipped in this package build (make check runs them):
# DEB_BUILD_OPTIONS=nocheck unless DEB_BUILD_OPTIONS is set.
check-deb: progs
	DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS-nocheck}" scripts/make-deb.sh $(CURDIR)/$(BUILD)/deb
	tests/deb-test.sh $(KERNELRELEASE)

# Secure Boot: sign the built module with a MOK key (docs/secure-boot.md).
SIGN_KEY ?= /var/lib/dkms/mok.key
SIGN_CERT ?= /var/lib/dkms/mok.pub
SIGN_KO ?= v4l2loopback.ko
sign:
	scripts/sign-module.sh $(KERNEL_DIR) sha256 $(SIGN_KEY) $(SIGN_CERT) $(SIGN_KO)

# The module goes to $(DESTDIR)/lib/modules/V/updates; CONFIG_MODULE_SIG_ALL is
# cleared because the distribution's signing key is never in the headers (and it
# would replace a signature made with 'make sign').
install: module tools
	$(MAKE) -C $(KERNEL_DIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates \
		CONFIG_MODULE_SIG_ALL= modules_install
	$(if $(DESTDIR),,depmod -a $(KERNELRELEASE))
	install -D -m 0644 include/linux/v4l2loopback.h $(DESTDIR)$(PREFIX)/include/linux/v4l2loopback.h
	$(if $(wildcard $(BUILD)/v4l2loopback-ctl),install -D -m 0755 $(BUILD)/v4l2loopback-ctl $(DESTDIR)$(PREFIX)/bin/v4l2loopback-ctl)
	install -D -m 0644 udev/60-v4l2loopback.rules $(DESTDIR)/etc/udev/rules.d/60-v4l2loopback.rules
	$(if $(wildcard docs/v4l2loopback-ctl.1),install -D -m 0644 docs/v4l2loopback-ctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/v4l2loopback-ctl.1)
	$(if $(wildcard utils/v4l2loopback-ctl.bash-completion),install -D -m 0644 utils/v4l2loopback-ctl.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/v4l2loopback-ctl)

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KERNELRELEASE)/updates/v4l2loopback.ko*
	rm -f $(DESTDIR)$(PREFIX)/include/linux/v4l2loopback.h $(DESTDIR)$(PREFIX)/bin/v4l2loopback-ctl
	rm -f $(DESTDIR)/etc/udev/rules.d/60-v4l2loopback.rules
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/v4l2loopback-ctl.1
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/v4l2loopback-ctl
	$(if $(DESTDIR),,depmod -a $(KERNELRELEASE))

clean:
	$(MAKE) -C $(KERNEL_DIR) M=$(CURDIR) clean
	rm -rf $(BUILD)
