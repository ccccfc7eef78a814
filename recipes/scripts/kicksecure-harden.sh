#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# whonix-build: the part of the Kicksecure layer that files in
# overlays/kicksecure cannot express.  Runs in the guest chroot after the
# layer's overlays and packages (recipes/kicksecure.conf, [Scripts]).
# Must be idempotent: nothing here may fail on a second run.
set -eu

# No NTP on either machine: it is unauthenticated and leaks the client's
# presence and clock.  Masked (a link to /dev/null), so that installing the
# package later cannot start it either.  Offline: works in a chroot.
for unit in systemd-timesyncd.service chrony.service ntpsec.service; do
        systemctl --root=/ mask "$unit"
done

# The firewall loads at boot.  The flavors' networking.service drop-in also
# Requires= it (fail closed); enabling it as well loads the ruleset even when
# nothing else asks for the network.
systemctl --root=/ enable nftables.service

# Set-uid reduction.  Dropped: programs an unprivileged user of these
# single-user VMs never needs, each a set-uid root attack surface:
#   chfn, chsh     change the user's GECOS field and shell
#   gpasswd, newgrp group passwords
#   mount, umount  user mounts from fstab ("user" option); none are defined
# Kept: sudo (administration), su, passwd (the user changes the password),
# and the set-gid helpers unix_chkpwd/chage/expiry (PAM and login need them).
# dpkg-statoverride, not chmod: the override survives package upgrades.
for name in chfn chsh gpasswd newgrp mount umount; do
        for path in /usr/bin/$name /bin/$name /usr/sbin/$name /sbin/$name; do
                # The path as dpkg registered it (merged /usr has both).
                dpkg-query -S "$path" >/dev/null 2>&1 || continue
                if ! dpkg-statoverride --list "$path" >/dev/null; then
                        dpkg-statoverride --update --add root root 0755 "$path"
                fi
                break
        done
done

# The clock over Tor instead of NTP (/usr/lib/whonix/timesync): a random
# nudge at boot, then the daemon.
systemctl --root=/ enable whonix-bootclock.service whonix-timesync.service whonix-selfcheck.service

# The flavors name the system in /usr/lib/os-release (Whonix-Gateway,
# Whonix-Workstation); base-files' upgrades write Debian's version beside
# it instead of over it.
if ! dpkg-divert --list /usr/lib/os-release | grep -q .; then
        dpkg-divert --quiet --local --no-rename --divert /usr/lib/os-release.debian --add /usr/lib/os-release
fi

# AppArmor: the apparmor package ships some 76 profiles that confine
# nothing (flags=(unconfined), one per application, most of them not in
# these images: 1password, Discord, chrome, signal-desktop, ...).  They only
# let those applications make user namespaces where the kernel restricts
# that (kernel.apparmor_restrict_unprivileged_userns=1); these images leave
# it at the kernel's 0, so the profiles change nothing, and apparmor.service
# compiled them at every boot: over five minutes under emulation, before
# anything else started.  They are disabled as aa-disable does it (a link
# in /etc/apparmor.d/disable/: apt keeps it, the profile file stays).  Every
# profile that confines (tor, dhclient, Xorg, torbrowser, ...) still loads.
for f in /etc/apparmor.d/*; do
        [ -f "$f" ] || continue
        # Only a file in which every block that opens is an unconfined
        # profile (no confining profile, hat or path-named profile beside).
        n=$(grep -c 'flags=(unconfined) *{ *$' "$f" || :)
        if [ "$n" -gt 0 ] && [ "$(grep -c '{ *$' "$f")" -eq "$n" ]; then
                ln -sf "$f" "/etc/apparmor.d/disable/${f##*/}"
        fi
done
