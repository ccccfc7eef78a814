#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Check a `whonix-build --json` report against schema 1 as the README's
# "Machine-readable results" documents it, and against the files: every
# artifact's SHA256 and size must be the file's in the output directory.
#   check-build-json.py REPORT.json
# Prints one "ok"/"FAIL <why>" line per finding; exit 0 if all are ok.
import hashlib
import json
import os
import re
import sys

problems = []


def need(cond, why):
    if not cond:
        problems.append(why)


def typed(obj, key, types, where):
    need(key in obj, f"{where}: no '{key}'")
    if key in obj:
        need(isinstance(obj[key], types), f"{where}: '{key}' is {type(obj[key]).__name__}")


doc = json.load(open(sys.argv[1]))
top = {"schema": int, "verb": str, "result": str, "exit_status": int, "error": (str, type(None)),
       "target": str, "flavors": list, "until": (str, type(None)), "output_dir": str, "seconds": (int, float),
       "stages": list, "artifacts": list, "sha256sums": (str, type(None)), "signed": bool,
       "buildinfo": (str, type(None))}
for k, t in top.items():
    typed(doc, k, t, "report")
need(not set(doc) - set(top), f"report: unknown fields {sorted(set(doc) - set(top))}")
need(doc.get("schema") == 1, "report: schema is not 1")
need(doc.get("verb") == "build", "report: verb is not build")
need(doc.get("result") in ("ok", "stopped", "failed", "interrupted"), f"report: result {doc.get('result')!r}")
need((doc.get("error") is None) == (doc.get("result") != "failed"), "report: an error exactly when failed")
need((doc.get("exit_status") == 0) == (doc.get("result") in ("ok", "stopped")), "report: exit status 0 exactly when ok")
need(doc.get("target") in ("kvm", "virtualbox"), "report: target")
stage_names = ["recipe", "fetch", "appliance", "bootstrap", "customize", "finalize", "export", "sign"]
step = {"stage": str, "flavor": (str, type(None)), "subject": (str, type(None)), "name": (str, type(None)),
        "outcome": str, "key": (str, type(None)), "seconds": (int, float), "summary": str}
last = -1
for i, s in enumerate(doc.get("stages", [])):
    where = f"stages[{i}]"
    for k, t in step.items():
        typed(s, k, t, where)
    need(not set(s) - set(step), f"{where}: unknown fields")
    need(s.get("stage") in stage_names, f"{where}: stage {s.get('stage')!r}")
    need(s.get("outcome") in ("done", "built", "reused"), f"{where}: outcome {s.get('outcome')!r}")
    need(s.get("seconds", -1) >= 0, f"{where}: negative seconds")
    if s.get("stage") in stage_names:
        # Stages end in pipeline order (a flavor's steps within a stage
        # may interleave, never cross a stage).
        n = stage_names.index(s["stage"])
        need(n >= last, f"{where}: {s['stage']} after a later stage")
        last = max(last, n)
    if s.get("outcome") in ("built", "reused"):
        need(isinstance(s.get("key"), str) and re.fullmatch(r"[0-9a-f]{16,64}", s["key"]),
             f"{where}: a cached step without its key")
art = {"name": str, "sha256": str, "size": int}
for i, a in enumerate(doc.get("artifacts", [])):
    where = f"artifacts[{i}]"
    for k, t in art.items():
        typed(a, k, t, where)
    need(re.fullmatch(r"[0-9a-f]{64}", a.get("sha256", "")), f"{where}: sha256")
    path = os.path.join(doc.get("output_dir", ""), a.get("name", ""))
    if os.path.exists(path):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        need(h.hexdigest() == a.get("sha256"), f"{where}: {a.get('name')}: the file's SHA256 differs")
        need(os.path.getsize(path) == a.get("size"), f"{where}: {a.get('name')}: the file's size differs")
    else:
        need(False, f"{where}: {path} does not exist")
if doc.get("result") == "ok":
    need(len(doc.get("artifacts", [])) > 0, "report: ok without artifacts")
    need(doc.get("buildinfo") and os.path.exists(doc["buildinfo"]), "report: ok without a buildinfo file")
    need(doc.get("sha256sums") and os.path.exists(doc["sha256sums"]), "report: ok without SHA256SUMS")
for p in problems:
    print("FAIL " + p)
if not problems:
    print(f"ok {len(doc.get('stages', []))} stages, {len(doc.get('artifacts', []))} artifacts")
sys.exit(1 if problems else 0)
