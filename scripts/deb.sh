#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: the Debian packages (sectag, libpam-sectag, sectag-dkms) into
# build/deb/, then lintian on them. Built from a copy of the tree as a
# fresh clone has it (tracked and not-ignored files, uncommitted edits
# included) in build/deb/sectag-VERSION: dpkg-buildpackage cleans the
# tree it builds in, which must not be this one's build/. No network.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1

OUT=build/deb
version=$(cat VERSION)
changelog=$(dpkg-parsechangelog -S Version)
if [ "$version" != "$changelog" ]; then
	echo "make deb: VERSION says $version, debian/changelog $changelog:" \
		"add a changelog entry (dch -v $version)" >&2
	exit 1
fi

src=$OUT/sectag-$version
rm -rf "$OUT"
mkdir -p "$src"
# shellcheck disable=SC2016 # the inner sh expands "$f"
if git rev-parse --show-toplevel >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude=./build --exclude=./.vm-cache -cf - . | tar -xf - -C "$src"
fi

# The package build is its own make, not part of the caller's (make -s
# would hide its compiler lines from the log, -j would share jobserver
# pipes); two cores at most unless the caller says otherwise.
unset MAKEFLAGS MFLAGS MAKELEVEL
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=2}
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 || {
	tail -n 40 "$OUT/build.log" >&2
	echo "make deb: dpkg-buildpackage failed (log: $OUT/build.log)" >&2
	exit 1
}
rm -rf "$src"

changes=$(ls "$OUT"/sectag_"$version"_*.changes)
# Errors fail the build; warnings and below are printed. Overrides, each
# with its reason, are in debian/*.lintian-overrides.
lintian --fail-on error --display-info "$changes" | tee "$OUT/lintian.log"
ls -l "$OUT"/*.deb
