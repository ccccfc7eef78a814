#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# whonix-build: the part of the desktop Workstation layer that files in
# overlays/whonix-workstation-desktop cannot express
# (recipes/whonix-workstation-desktop.conf, [Scripts]).  Idempotent, offline.
set -eu

# Boot into the graphical session: LightDM logs the user in
# (/etc/lightdm/lightdm.conf.d/50-whonix.conf).  The serial console and
# tty1 keep their shells.
systemctl --root=/ set-default graphical.target
systemctl --root=/ enable lightdm.service

# The display manager Debian's X session scripts and systemd agree on.
echo /usr/sbin/lightdm >/etc/X11/default-display-manager
