/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Deterministic identifiers: UUIDs, MAC addresses and hex strings derived
 * from a seed and a name, so that two builds from the same inputs write the
 * same libvirt XML, OVF and disk UUIDs byte for byte.
 *
 *     char uuid[37], mac[18];
 *     r = id_uuid(seed, "domain:Whonix-Gateway", uuid);
 *     r = id_mac(seed, "nic:Whonix-Gateway:0", ID_OUI_KVM, mac);
 *
 * The seed is a string that the buildinfo records, so a rebuild gets the
 * same identifiers; "what" names the object.  Each identifier is taken from
 * SHA-256 over the kind of identifier, the seed and what (each
 * length-prefixed, so ("ab","c") and ("a","bc") differ, and a UUID and a MAC
 * of the same what share no bytes).  Nothing secret should be used as a
 * seed: the identifiers are public and the derivation is not meant to hide
 * it.
 *
 * Results are lowercase.  All functions return 0 or -EINVAL (a NULL seed or
 * what, a malformed OUI, a bad length) or -ENOMEM; ret is written only on
 * success.
 */

#include <stddef.h>

#define ID_UUID_STRING_MAX 37 /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" + NUL */
#define ID_MAC_STRING_MAX 18  /* "52:54:00:xx:xx:xx" + NUL */
#define ID_HEX_BYTES_MAX 1024

/* OUIs of the hypervisors' own MAC ranges. */
#define ID_OUI_KVM "52:54:00"
#define ID_OUI_VIRTUALBOX "08:00:27"

/* RFC 4122 textual UUID with the version (4, "random") and variant (10x)
 * bits set, so tools that check them accept it. */
int id_uuid(const char *seed, const char *what, char ret[static ID_UUID_STRING_MAX]);

/* "oo:oo:oo:xx:xx:xx": the OUI ("xx:xx:xx", hex, a unicast first octet)
 * followed by three derived bytes. */
int id_mac(const char *seed, const char *what, const char *oui, char ret[static ID_MAC_STRING_MAX]);

/* nbytes (1..ID_HEX_BYTES_MAX) derived bytes as a new lowercase hex string
 * of 2 * nbytes characters. */
int id_hex(const char *seed, const char *what, size_t nbytes, char **ret);
