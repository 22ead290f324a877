# sftplog: build, install and uninstall.
#
#   make                               release build
#   make install PREFIX=/usr/local     binary, catalogue, man page, shell completions
#   make uninstall PREFIX=/usr/local
#   make man                           regenerate docs/man/sftplog.1 (after changing options)
#   make dist                          dist/sftplog: one file to copy to a server (Swift
#                                      runtime linked statically, catalogue inside)
#
# Variables: DESTDIR (staged installs), BUILD=debug|release, SCRATCH (SwiftPM's
# build directory), SWIFT_FLAGS (more swift flags), BINARY=path to install an
# already-built binary without building.

PREFIX     ?= /usr/local
DESTDIR    ?=
BUILD      ?= release
SWIFT      ?= swift
SCRATCH    ?= .build
SWIFT_FLAGS ?=
SWIFTPM    = --scratch-path "$(SCRATCH)" $(SWIFT_FLAGS)

BINDIR     = $(PREFIX)/bin
DATADIR    = $(PREFIX)/share
# The binary looks for ../share/sftplog/catalog next to itself (EventCatalog.catalogDirectory).
CATALOGDIR = $(DATADIR)/sftplog/catalog
MAN1DIR    = $(DATADIR)/man/man1
BASHDIR    = $(DATADIR)/bash-completion/completions
ZSHDIR     = $(DATADIR)/zsh/site-functions
FISHDIR    = $(DATADIR)/fish/vendor_completions.d

# Installing a given BINARY skips the build (tests install the debug binary they built).
ifeq ($(BINARY),)
BINARY = $(shell $(SWIFT) build -c $(BUILD) $(SWIFTPM) --show-bin-path 2>/dev/null)/sftplog
INSTALL_NEEDS = build
endif

.PHONY: all build install uninstall man dist

# Its own scratch directory: a static build shares nothing with the usual one.
# DIST_CONFIG=debug makes the same one-file layout unoptimised (CI tests it so).
DIST_SCRATCH ?= .build-dist
DIST         ?= dist
DIST_CONFIG  ?= release

all: build

build:
	$(SWIFT) build -c $(BUILD) $(SWIFTPM) --product sftplog

install: $(INSTALL_NEEDS)
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(CATALOGDIR)" "$(DESTDIR)$(MAN1DIR)" \
		"$(DESTDIR)$(BASHDIR)" "$(DESTDIR)$(ZSHDIR)" "$(DESTDIR)$(FISHDIR)"
	install -m 755 "$(BINARY)" "$(DESTDIR)$(BINDIR)/sftplog"
# Catalogue data only: its generator scripts are not needed at run time.
	rm -rf "$(DESTDIR)$(CATALOGDIR)"
	install -d "$(DESTDIR)$(CATALOGDIR)"
	tar -C catalog/ --exclude tools -cf - . | tar -C "$(DESTDIR)$(CATALOGDIR)" --no-same-owner -xf -
	install -m 644 docs/man/sftplog.1 "$(DESTDIR)$(MAN1DIR)/sftplog.1"
# Completions come from the binary itself, so they always match its options.
	"$(BINARY)" --generate-completion-script bash > "$(DESTDIR)$(BASHDIR)/sftplog"
	"$(BINARY)" --generate-completion-script zsh > "$(DESTDIR)$(ZSHDIR)/_sftplog"
	"$(BINARY)" --generate-completion-script fish > "$(DESTDIR)$(FISHDIR)/sftplog.fish"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/sftplog" "$(DESTDIR)$(MAN1DIR)/sftplog.1" \
		"$(DESTDIR)$(BASHDIR)/sftplog" "$(DESTDIR)$(ZSHDIR)/_sftplog" "$(DESTDIR)$(FISHDIR)/sftplog.fish"
	rm -rf "$(DESTDIR)$(DATADIR)/sftplog"

# swift-argument-parser's generate-manual plugin writes into the build
# directory; the page is committed so installs need no plugin run.
man:
	$(SWIFT) package $(SWIFTPM) plugin generate-manual --configuration debug
	install -d docs/man
	cp "$(SCRATCH)/plugins/GenerateManual/outputs/sftplog/sftplog.1" docs/man/sftplog.1

dist:
	$(SWIFT) build -c $(DIST_CONFIG) --static-swift-stdlib --scratch-path "$(DIST_SCRATCH)" $(SWIFT_FLAGS) --product sftplog
	mkdir -p "$(DIST)"
# Symbols stripped (100 MB to 66 MB; crash backtraces show addresses), then the catalogue appended.
	strip -o "$(DIST)/sftplog.bare" \
		"$$($(SWIFT) build -c $(DIST_CONFIG) --static-swift-stdlib --scratch-path "$(DIST_SCRATCH)" $(SWIFT_FLAGS) --show-bin-path)/sftplog"
	python3 catalog/tools/embed-catalog.py "$(DIST)/sftplog.bare" catalog "$(DIST)/sftplog"
	rm -f "$(DIST)/sftplog.bare"
