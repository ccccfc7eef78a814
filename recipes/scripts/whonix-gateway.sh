#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# whonix-build: the part of the Gateway layer that files in
# overlays/whonix-gateway cannot express (recipes/whonix-gateway.conf,
# [Scripts]).  Idempotent, offline.
set -eu

# The Workstation's filtered control port on 10.152.152.10:9051
# (/usr/lib/whonix/control-port-filter).
systemctl --root=/ enable whonix-control-port-filter.service
