/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * How a Gateway connects to the Tor network: the recipe's [Tor] section
 * (ConnectAtBoot=, Bridges=) as the one torrc file that says it,
 * /etc/tor/torrc.d/40-connection.conf, the same file the Gateway's
 * first-connection command (whonix-connect) writes after boot.
 *
 * A bridge line is what https://bridges.torproject.org hands out, with or
 * without the leading "Bridge":
 *
 *     [TRANSPORT] ADDRESS:PORT [FINGERPRINT] [KEY=VALUE]...
 *
 * TRANSPORT "obfs4" or "snowflake" (the Gateway's client transports,
 * obfs4proxy and snowflake-client from Debian), or none for a plain
 * bridge; ADDRESS a dotted IPv4 address or a bracketed IPv6 one; PORT
 * 1..65535; FINGERPRINT 40 hexadecimal digits; KEY [A-Za-z0-9_-]+, VALUE
 * printable ASCII without blanks.  Only printable ASCII at all: a line
 * lands in a torrc, and nothing in it may start another option.
 */

#include <stdbool.h>

/* NULL if line is a bridge line, else why not. */
const char *tor_bridge_line_check(const char *line);

/* The file for a choice: connect false waits (DisableNetwork 1: Tor makes
 * no connection until whonix-connect runs); connect true connects at boot,
 * directly if bridges is empty, else through those bridges (each checked
 * with tor_bridge_line_check, an optional "Bridge " removed).  -EINVAL if
 * a line is bad or bridges are given with connect false. */
int tor_connection_render(bool connect, char * const *bridges, char **ret);
