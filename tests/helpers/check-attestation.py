#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Check a rebuilderd attestation (an in-toto link signed by a worker) with
# the worker's public key, independently of rebuilderd: the ed25519
# signature over the canonical JSON of "signed" (sorted keys, no spaces), by
# openssl; the link's product NAME must have SHA256.
#   check-attestation.py ATTESTATION.json PUBKEY_BASE64 NAME SHA256 [--tamper]
# --tamper changes the product's hash before checking (the signature must
# then fail).  Prints "ok" or "FAIL <why>"; exit 0 only for ok.
import base64
import json
import os
import subprocess
import sys
import tempfile

path, pubkey, name, sha = sys.argv[1:5]
tamper = "--tamper" in sys.argv[5:]
try:
    att = json.load(open(path))
    signed = att["signed"]
    product = signed["products"][name]["sha256"]
    if tamper:
        signed["products"][name]["sha256"] = "0" * 64
    canon = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    sig = bytes.fromhex(att["signatures"][0]["sig"])
    # SubjectPublicKeyInfo of an Ed25519 key: a fixed prefix and the 32 bytes.
    der = bytes.fromhex("302a300506032b6570032100") + base64.b64decode(pubkey)
except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
    print("FAIL cannot read the attestation: %r" % e)
    sys.exit(1)
with tempfile.TemporaryDirectory() as d:
    files = {"msg": canon, "sig": sig, "pub.der": der}
    for n, b in files.items():
        with open(os.path.join(d, n), "wb") as f:
            f.write(b)
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", os.path.join(d, "pub.der"),
                        "-keyform", "DER", "-rawin", "-in", os.path.join(d, "msg"), "-sigfile", os.path.join(d, "sig")],
                       capture_output=True, text=True)
if r.returncode != 0:
    print("FAIL the signature does not verify with the worker's key: %s" % (r.stdout + r.stderr).strip()[:200])
    sys.exit(1)
if signed.get("_type") != "link" or signed.get("name") != "rebuild " + name:
    print("FAIL not the link of the rebuild of %s: %r" % (name, signed.get("name")))
    sys.exit(1)
if product != sha:
    print("FAIL the link names sha256 %s for %s, the published file has %s" % (product, name, sha))
    sys.exit(1)
print("ok")
