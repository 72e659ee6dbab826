#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/e2e/story.sh through the PC/SC reader backend (backend-pcsc.sh).
SECTAG_BACKEND=pcsc exec "$(dirname "$0")/story.sh" "$@"
