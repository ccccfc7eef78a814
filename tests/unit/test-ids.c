/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Deterministic identifiers: stable, distinct per seed and name, well-formed. */
#include <ctype.h>

#include "ids.h"
#include "tap.h"
#include "util.h"

static bool is_lower_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char) s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
                        return false;
        return true;
}

static bool uuid_well_formed(const char *u) {
        if (strlen(u) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? u[i] != '-' : !is_lower_hex(u + i, 1))
                        return false;
        }
        /* Version 4, variant 10xx (RFC 4122 section 4.1.1 and 4.1.3). */
        return u[14] == '4' && strchr("89ab", u[19]);
}

static bool mac_well_formed(const char *m, const char *oui) {
        if (strlen(m) != 17 || strncasecmp(m, oui, 8) != 0)
                return false;
        for (size_t i = 0; i < 17; i++)
                if (i % 3 == 2 ? m[i] != ':' : !is_lower_hex(m + i, 1))
                        return false;
        return true;
}

int main(void) {
        char a[ID_UUID_STRING_MAX], b[ID_UUID_STRING_MAX], m1[ID_MAC_STRING_MAX], m2[ID_MAC_STRING_MAX];
        bool all_ok = true;
        int r;

        tap_plan_lazy();

        /* Pinned values, computed independently (Python hashlib over the
         * same length-prefixed fields).  If these change, every release's
         * XML changes: that must be a deliberate decision. */
        r = id_uuid("test-seed", "domain:Whonix-Gateway", a);
        tap_ok(r == 0 && streq(a, "06418c04-082d-40ac-abe4-657708352372"), "uuid known answer (%s)", a);
        r = id_mac("test-seed", "nic:Whonix-Gateway:0:external", ID_OUI_KVM, m1);
        tap_ok(r == 0 && streq(m1, "52:54:00:88:a1:88"), "mac known answer (%s)", m1);
        {
                _cleanup_free_ char *h = NULL;
                r = id_hex("test-seed", "disk", 40, &h);
                tap_ok(r == 0 && streq(h, "582522c5f2b193987cfce8c26c7101816d31d5a2"
                                          "1dfb209c6a7f5270334214c291a0387c9792d92c"),
                       "hex known answer over two hash blocks");
        }

        /* Same input, same output. */
        tap_ok(id_uuid("s", "x", a) == 0 && id_uuid("s", "x", b) == 0 && streq(a, b), "uuid is deterministic");
        tap_ok(id_mac("s", "x", ID_OUI_KVM, m1) == 0 && id_mac("s", "x", ID_OUI_KVM, m2) == 0 && streq(m1, m2),
               "mac is deterministic");

        /* Different what or seed, different result; no ambiguity in the
         * concatenation. */
        tap_ok(id_uuid("s", "x", a) == 0 && id_uuid("s", "y", b) == 0 && !streq(a, b), "uuid differs by what");
        tap_ok(id_uuid("s", "x", a) == 0 && id_uuid("t", "x", b) == 0 && !streq(a, b), "uuid differs by seed");
        tap_ok(id_uuid("ab", "c", a) == 0 && id_uuid("a", "bc", b) == 0 && !streq(a, b),
               "(\"ab\",\"c\") and (\"a\",\"bc\") differ");
        tap_ok(id_uuid("", "x", a) == 0 && id_uuid("x", "", b) == 0 && !streq(a, b), "empty seed and empty what differ");
        tap_ok(id_mac("s", "x", ID_OUI_KVM, m1) == 0 && id_mac("s", "y", ID_OUI_KVM, m2) == 0 && !streq(m1, m2),
               "mac differs by what");
        tap_ok(id_mac("s", "x", ID_OUI_KVM, m1) == 0 && id_mac("t", "x", ID_OUI_KVM, m2) == 0 && !streq(m1, m2),
               "mac differs by seed");
        {
                _cleanup_free_ char *h1 = NULL, *h2 = NULL;
                tap_ok(id_hex("s", "x", 16, &h1) == 0 && id_hex("t", "x", 16, &h2) == 0 && !streq(h1, h2),
                       "hex differs by seed");
        }

        /* Format over many names. */
        for (unsigned i = 0; i < 500 && all_ok; i++) {
                char what[32];

                snprintf(what, sizeof what, "object-%u", i);
                all_ok = id_uuid("seed", what, a) == 0 && uuid_well_formed(a) &&
                         id_mac("seed", what, ID_OUI_KVM, m1) == 0 && mac_well_formed(m1, ID_OUI_KVM) &&
                         id_mac("seed", what, ID_OUI_VIRTUALBOX, m2) == 0 && mac_well_formed(m2, ID_OUI_VIRTUALBOX);
                if (!all_ok)
                        tap_diag("bad: %s %s %s", a, m1, m2);
        }
        tap_ok(all_ok, "500 uuids are RFC 4122 version 4, lowercase; macs keep the OUI and are lowercase");

        tap_ok(id_mac("s", "x", "08:00:2A", m1) == 0 && startswith(m1, "08:00:2a:"),
               "an uppercase OUI is written lowercase (%s)", m1);

        {
                _cleanup_free_ char *h = NULL;
                r = id_hex("s", "x", 100, &h);
                tap_ok(r == 0 && strlen(h) == 200 && is_lower_hex(h, 200) && strncmp(h, h + 64, 64) != 0,
                       "id_hex of 100 bytes: 200 lowercase hex digits, blocks differ");
        }

        /* Errors leave ret alone. */
        memcpy(a, "untouched", 10);
        tap_ok(id_uuid(NULL, "x", a) == -EINVAL && streq(a, "untouched"), "NULL seed is -EINVAL, ret untouched");
        tap_ok(id_uuid("s", NULL, a) == -EINVAL && streq(a, "untouched"), "NULL what is -EINVAL");
        memcpy(m1, "untouched", 10);
        tap_ok(id_mac("s", "x", "01:00:5e", m1) == -EINVAL && streq(m1, "untouched"), "multicast OUI refused");
        tap_ok(id_mac("s", "x", "52:54", m1) == -EINVAL, "short OUI refused");
        tap_ok(id_mac("s", "x", "52-54-00", m1) == -EINVAL, "OUI with dashes refused");
        tap_ok(id_mac("s", "x", "52:54:0g", m1) == -EINVAL, "OUI with a non-hex digit refused");
        tap_ok(id_mac("s", "x", "52:54:00:", m1) == -EINVAL, "long OUI refused");
        tap_ok(id_mac("s", "x", NULL, m1) == -EINVAL && streq(m1, "untouched"), "NULL OUI refused");
        {
                char *h = (char *) "untouched";
                tap_ok(id_hex("s", "x", 0, &h) == -EINVAL && id_hex("s", "x", ID_HEX_BYTES_MAX + 1, &h) == -EINVAL &&
                               streq(h, "untouched"),
                       "id_hex refuses 0 and more than %u bytes", ID_HEX_BYTES_MAX);
        }
        return tap_done();
}
