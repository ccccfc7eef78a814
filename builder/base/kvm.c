/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "kvm.h"
#include "util.h"

#define CPUINFO_MAX (4u * 1024u * 1024u)

/* True if some "flags" line of cpuinfo lists the word. */
static bool cpuinfo_has_flag(const char *cpuinfo, const char *flag) {
        size_t lf = strlen(flag);

        for (const char *line = cpuinfo; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t) (end - line) : strlen(line);

                if (strncmp(line, "flags", 5) == 0) {
                        const char *colon = memchr(line, ':', len);
                        for (const char *p = colon; p && p < line + len;) {
                                p += strspn(p, ": \t");
                                size_t w = strcspn(p, " \t\n");
                                if (p + w > line + len)
                                        w = (size_t) (line + len - p);
                                if (w == lf && strncmp(p, flag, lf) == 0)
                                        return true;
                                p += w;
                                if (w == 0)
                                        break;
                        }
                }
                line = end ? end + 1 : NULL;
        }
        return false;
}

bool kvm_usable_at(const char *cpuinfo, const char *dev_path, const char **ret_reason) {
        _cleanup_close_ int fd = -EBADF;
        const char *why = NULL;

        if (!cpuinfo_has_flag(cpuinfo, "vmx") && !cpuinfo_has_flag(cpuinfo, "svm"))
                why = "the CPU has no vmx or svm flag";
        else {
                fd = open(dev_path, O_RDWR | O_CLOEXEC);
                if (fd < 0)
                        why = errno == ENOENT ? "there is no /dev/kvm" : "/dev/kvm cannot be opened read-write";
                else if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
                        why = "/dev/kvm does not answer with the expected API version";
        }
        if (why && ret_reason)
                *ret_reason = why;
        return !why;
}

bool kvm_usable(const char **ret_reason) {
        _cleanup_free_ char *cpuinfo = NULL;

        if (read_full_file("/proc/cpuinfo", CPUINFO_MAX, &cpuinfo, NULL) < 0) {
                if (ret_reason)
                        *ret_reason = "/proc/cpuinfo cannot be read";
                return false;
        }
        return kvm_usable_at(cpuinfo, "/dev/kvm", ret_reason);
}
