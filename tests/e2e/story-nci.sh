#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/e2e/story.sh through the nci reader backend (backend-nci.sh).
SECTAG_BACKEND=nci exec "$(dirname "$0")/story.sh" "$@"
