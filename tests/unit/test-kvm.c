/* SPDX-License-Identifier: GPL-2.0-or-later */
/* KVM detection: no vmx/svm flag means TCG even where /dev/kvm exists. */
#include "kvm.h"
#include "tap.h"
#include "util.h"

int main(void) {
        const char *why = NULL;
        char dev[] = "/tmp/wb-fake-kvm-XXXXXX";
        int fd;

        tap_plan_lazy();
        tap_ok(!kvm_usable_at("processor\t: 0\nflags\t\t: fpu vme de pse sse2 hypervisor\n", "/dev/null", &why) &&
                       why && strstr(why, "vmx"),
               "no vmx/svm flag: not usable, and the reason says so");
        why = NULL;
        tap_ok(!kvm_usable_at("flags\t: fpu vmxfoo svmbar\n", "/dev/null", &why) && why,
               "flags that only start with vmx/svm do not count");
        why = NULL;
        tap_ok(!kvm_usable_at("flags\t: fpu vmx sse\n", "/nonexistent/kvm", &why) && why && strstr(why, "no /dev/kvm"),
               "vmx but no device: not usable");
        fd = mkstemp(dev);
        if (fd >= 0)
                close(fd);
        why = NULL;
        tap_ok(fd >= 0 && !kvm_usable_at("flags\t: svm\n", dev, &why) && why && strstr(why, "API version"),
               "svm and a device that is not KVM: not usable");
        if (fd >= 0)
                unlink(dev);
        why = NULL;
        bool here = kvm_usable(&why);
        tap_diag("this host: KVM %s%s%s", here ? "usable" : "not usable", why ? ": " : "", why ?: "");
        tap_ok(here || why, "kvm_usable() gives a reason whenever it says no");
        return tap_done();
}
