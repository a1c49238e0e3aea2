# tickerd: build, run, test, install.  `make help` lists the targets.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
DATADIR	?= $(PREFIX)/share/tickerd
MANDIR	?= $(PREFIX)/share/man
# /etc for PREFIX=/usr, else $(PREFIX)/etc; systemd reads units from both
# /usr/lib/systemd/system and /usr/local/lib/systemd/system.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSCTLDIR ?= $(PREFIX)/lib/sysctl.d
DESTDIR	?=

CC	?= cc
PKG_CONFIG ?= pkg-config
PKGS	:= libwebsockets hiredis jansson libuv zlib libsystemd libjwt libcrypto
WERROR	?= 1
SANITIZE ?=

BUILD	:= build$(if $(SANITIZE),-sanitize)
OPT	?= -O2 -g
WARN	:= -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
SAN	:= $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer)

# The user's CFLAGS/LDFLAGS are added to, never replaced.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=gnu11 $(OPT) $(WARN) $(SAN) -Iinclude $(PKG_CFLAGS) \
	     -MMD -MP $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)

SERVER_SRCS := $(wildcard server/*.c)
SERVER_OBJS := $(SERVER_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/tickerd_lua.o
LIB_OBJS    := $(filter-out $(BUILD)/server/main.o,$(SERVER_OBJS))

# tickerctl, the publishers' tool: its own files, and the objects of
# tickerd's it links (item_parse() and what it needs, the --redis URL).
CTL_SRCS    := $(wildcard ctl/*.c)
CTL_OBJS    := $(CTL_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/tickerd_lua.o \
	       $(addprefix $(BUILD)/server/,item.o item_fields.o item_text.o \
	         isotime.o topics.o utf8.o seq.o config_redis.o config_kinds.o)
CTL_LIBS     = $(shell $(PKG_CONFIG) --libs hiredis jansson 2>/dev/null)

UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: print-pkgs all run test unit e2e browser sanitize fuzz fuzz-replay bench bench-smoke install uninstall clean deps format help
.PHONY: man install-test deb package-test FORCE

all: $(BUILD)/tickerd $(BUILD)/tickerd.8 $(BUILD)/tickerctl

# The pkg-config packages the server links (tests/fuzz/*.sh ask for them).
print-pkgs:
	@echo $(PKGS)

help:
	@echo "make            build $(BUILD)/tickerd and $(BUILD)/tickerctl"
	@echo "make run        install what is missing, build, serve on 127.0.0.1:8080 with a demo feed"
	@echo "make test       install what is missing, build, run unit, end-to-end and browser tests"
	@echo "make deps       install the Debian packages the build and tests need"
	@echo "make install    install to \$$(DESTDIR)\$$(PREFIX) (PREFIX=$(PREFIX)): binaries, web files, man pages, systemd units, config"
	@echo "make deb        build a Debian 12 package into build/ (installs debhelper when missing)"
	@echo "make package-test   install that package in a Debian 12 chroot and serve from it (CHROOT=dir to copy one)"
	@echo "make SANITIZE=address,undefined   build with sanitizers (into build-sanitize/)"
	@echo "make sanitize   unit + end-to-end suites under ASan/UBSan (part of make test)"
	@echo "make fuzz       fuzz the parsers for FUZZ_SECONDS each (clang, libFuzzer)"
	@echo "make bench      the fan-out benchmark: tickerd vs a send() floor, Nchan, ws, Socket.IO"

$(BUILD)/tickerd: $(SERVER_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tickerctl: $(CTL_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CTL_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Where make install puts the web files and the config is compiled into
# config.o.  The build records the folders it was made for and rebuilds
# config.o when they change, so `make && sudo make install PREFIX=/usr`
# installs a binary that looks in /usr/share/tickerd, not /usr/local.
$(BUILD)/server/config.o: ALL_CFLAGS += -DTICKERD_DATA_DIR='"$(DATADIR)"' \
	-DTICKERD_CONF_DIR='"$(SYSCONFDIR)/tickerd"'
$(BUILD)/server/config.o: $(BUILD)/dirs.stamp
$(BUILD)/dirs.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo 'DATADIR=$(DATADIR) SYSCONFDIR=$(SYSCONFDIR)' | cmp -s - $@ || \
	  echo 'DATADIR=$(DATADIR) SYSCONFDIR=$(SYSCONFDIR)' > $@
FORCE:

# tickerd(8), printed by the binary from its table of settings.
man: $(BUILD)/tickerd.8
$(BUILD)/tickerd.8: $(BUILD)/tickerd
	$< --help-man > $@.tmp && mv $@.tmp $@

# The tests' stand-in for systemd's notify socket (node has no Unix datagrams).
$(BUILD)/tests/notify-listen: tests/helpers/notify_listen.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(OPT) $(WARN) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

# The Redis function library, compiled in as one C string.
$(BUILD)/gen/tickerd_lua.c: deploy/redis/tickerd.lua
	@mkdir -p $(dir $@)
	{ echo '/* generated from $< */'; echo 'const char tickerd_lua[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $<; \
	  echo '\t;'; } > $@

$(BUILD)/gen/tickerd_lua.o: $(BUILD)/gen/tickerd_lua.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(LIB_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

deps:
	@deploy/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@deploy/dev/run.sh $(BUILD)/tickerd $(CURDIR)/web $(ARGS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do \
		echo "== $$t"; TICKERD_TEST_DATA=$(CURDIR)/tests/unit $$t; done

tests/node_modules/.package-lock.json: tests/package.json tests/package-lock.json
	cd tests && npm ci --no-audit --no-fund

# One test file at a time (each starts its own servers): without
# --test-concurrency=1, node runs max(cores - 1, 1) files at once. Whether
# node has the flag is asked of node itself, not guessed from its version
# (Debian 12's node 18.20 has it, as do 20.10 and later).
NODE_TEST := node --test $(shell node --test-concurrency=1 -e 0 >/dev/null 2>&1 && echo --test-concurrency=1)

e2e: $(BUILD)/tickerd $(BUILD)/tickerctl $(BUILD)/tests/notify-listen tests/node_modules/.package-lock.json
	cd tests && TICKERD_BIN=$(CURDIR)/$(BUILD)/tickerd TICKERCTL_BIN=$(CURDIR)/$(BUILD)/tickerctl $(NODE_TEST) e2e/

browser: $(BUILD)/tickerd $(BUILD)/tickerctl tests/node_modules/.package-lock.json
	cd tests && TICKERD_BIN=$(CURDIR)/$(BUILD)/tickerd TICKERCTL_BIN=$(CURDIR)/$(BUILD)/tickerctl $(NODE_TEST) browser/

# The unit and end-to-end suites again, built with AddressSanitizer and
# UndefinedBehaviorSanitizer; a report from any tickerd run fails the target.
SAN_REPORTS = $(CURDIR)/build-sanitize/reports
sanitize:
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all unit fuzz-replay \
	  build-sanitize/tests/notify-listen
	@rm -rf $(SAN_REPORTS) && mkdir -p $(SAN_REPORTS)
	cd tests && TICKERD_BIN=$(CURDIR)/build-sanitize/tickerd \
	  TICKERCTL_BIN=$(CURDIR)/build-sanitize/tickerctl \
	  ASAN_OPTIONS=log_path=$(SAN_REPORTS)/asan:detect_leaks=1 \
	  UBSAN_OPTIONS=log_path=$(SAN_REPORTS)/ubsan:print_stacktrace=1 \
	  $(NODE_TEST) e2e/
	@if ls $(SAN_REPORTS)/* >/dev/null 2>&1; then cat $(SAN_REPORTS)/*; \
	  echo "sanitizer reports above: failing"; exit 1; fi
	@echo "sanitizers: no reports"

# Fuzzing: libFuzzer targets for the item parser and client input (clang).
FUZZ_SECONDS ?= 60
fuzz: deps
	tests/fuzz/run.sh $(FUZZ_SECONDS)

# Replay the fuzz corpus (and past crashes) through the parsers: no clang.
fuzz-replay: $(SERVER_OBJS)
	CC="$(CC)" tests/fuzz/replay.sh $(BUILD)

# The fan-out benchmark (tickerd vs a raw send() floor vs Nchan vs the Node
# ws and Socket.IO peers, and two processes per core; installs nginx +
# libnginx-mod-nchan when missing, npm ci in tests/bench/peers) and its smoke.
bench: deps all
	tests/bench/run.sh

bench-smoke: all
	tests/bench/smoke.sh

test: deps
	@$(MAKE) --no-print-directory all unit fuzz-replay e2e browser bench-smoke sanitize install-test

# The systemd units name /usr/bin/tickerd and /etc/tickerd: installed
# elsewhere, they name where they are.  An existing config is kept.
UNIT_SED = -e 's|/usr/bin/tickerd|$(BINDIR)/tickerd|g' -e 's|/etc/tickerd|$(SYSCONFDIR)/tickerd|g'
install: $(BUILD)/tickerd $(BUILD)/tickerd.8 $(BUILD)/tickerctl
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/web $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/tickerd
	install -m 755 $(BUILD)/tickerd $(DESTDIR)$(BINDIR)/tickerd
	install -m 755 $(BUILD)/tickerctl $(DESTDIR)$(BINDIR)/tickerctl
	install -D -m 644 deploy/redis/tickerd.lua $(DESTDIR)$(DATADIR)/redis/tickerd.lua
	cp -R web/. $(DESTDIR)$(DATADIR)/web/
	install -D -m 644 $(BUILD)/tickerd.8 $(DESTDIR)$(MANDIR)/man8/tickerd.8
	install -D -m 644 ctl/tickerctl.1 $(DESTDIR)$(MANDIR)/man1/tickerctl.1
	install -D -m 644 deploy/sysctl/60-tickerd.conf $(DESTDIR)$(SYSCTLDIR)/60-tickerd.conf
	for u in tickerd.service tickerd@.service; do \
	  sed $(UNIT_SED) deploy/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && \
	  chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	[ -e $(DESTDIR)$(SYSCONFDIR)/tickerd/tickerd.conf ] || \
	  install -m 644 deploy/tickerd.conf.example $(DESTDIR)$(SYSCONFDIR)/tickerd/tickerd.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tickerd $(DESTDIR)$(MANDIR)/man8/tickerd.8
	rm -f $(DESTDIR)$(BINDIR)/tickerctl $(DESTDIR)$(MANDIR)/man1/tickerctl.1
	rm -f $(DESTDIR)$(SYSCTLDIR)/60-tickerd.conf
	rm -f $(DESTDIR)$(UNITDIR)/tickerd.service $(DESTDIR)$(UNITDIR)/tickerd@.service
	rm -rf $(DESTDIR)$(DATADIR)
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/tickerd/ (your configuration)"

# make install PREFIX=/usr into a temporary DESTDIR after a plain make:
# what is installed finds its files; the units and the man page are right.
install-test: all
	tests/install/install-test.sh

# A Debian 12 package (debian/), built from a copy of the tree in build/deb/;
# the .deb lands in build/.  package-test installs it in a Debian 12 chroot
# (a copy of CHROOT, else a fresh debootstrap) and serves from it.
deb:
	deploy/package/build-deb.sh

package-test:
	deploy/package/package-test.sh $(if $(CHROOT),--chroot $(CHROOT))

format:
	clang-format -i server/*.c include/*.h ctl/*.c ctl/*.h tests/unit/*.c tests/helpers/*.c

clean:
	rm -rf $(BUILD)

.SECONDARY:

-include $(SERVER_OBJS:.o=.d) $(CTL_OBJS:.o=.d) $(UNIT_BINS:$(BUILD)/tests/%=$(BUILD)/tests/unit/%.d)
