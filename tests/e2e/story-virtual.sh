#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/e2e/story.sh through the virtual reader backend (backend-virtual.sh).
SECTAG_BACKEND=virtual exec "$(dirname "$0")/story.sh" "$@"
