#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/e2e/story.sh through the pn533 reader backend (backend-pn533.sh).
SECTAG_BACKEND=pn533 exec "$(dirname "$0")/story.sh" "$@"
