#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# whonix-build: the part of the Workstation layer that files in
# overlays/whonix-workstation cannot express (recipes/whonix-workstation.conf,
# [Scripts]).  Idempotent, offline.
set -eu

# The usual local Tor ports lead to the Gateway, so that applications that
# expect a local Tor (Tor Browser, torsocks, anything asking 127.0.0.1:9050
# or its control port) work without running Tor over Tor: SOCKS 9050 and
# 9150, and the Gateway's filtered control port 9051.
for port in 9050 9051 9150; do
        systemctl --root=/ enable "whonix-tor-port@$port.socket"
done
