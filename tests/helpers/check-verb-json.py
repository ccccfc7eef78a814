#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Check a `whonix-build recipes|verify|compare --json` report against schema
# 1 as the README's "Machine-readable results" documents it: the fields of
# its verb, each of its type, no other; the result one of the verb's; an
# error exactly when it failed; exit status 0 exactly when it succeeded.
#   check-verb-json.py VERB REPORT.json [FIELD=VALUE...]
# FIELD=VALUE: a top-level field the caller expects (compared as text).
# Prints "ok <verb> <result>" or one "FAIL <why>" line per problem.
import json
import sys

S, N, L = str, type(None), list
COMMON = {"schema": int, "verb": S, "result": S, "exit_status": int, "error": (S, N)}
VERBS = {
    "recipes": ({"recipes": L}, ("ok", "failed"), ("ok",)),
    "verify": ({"buildinfo": S, "artifacts": L, "package_differences": L, "tool_differences": L, "rebuilt_dir": (S, N)},
               ("match", "differs", "failed", "interrupted"), ("match",)),
    "compare": ({"a": S, "b": S, "differences": L}, ("same", "differ", "failed", "interrupted"), ("same",)),
}
ITEMS = {
    "recipes": ({"name": S, "description": S}, None),
    "artifacts": ({"name": S, "status": S, "pinned_sha256": S, "rebuilt_sha256": (S, N), "explain": L},
                  ("match", "differs", "missing", "published-bad")),
}

problems = []


def need(cond, why):
    if not cond:
        problems.append(why)


def fields(obj, want, where):
    for k, t in want.items():
        need(k in obj, f"{where}: no '{k}'")
        if k in obj:
            need(isinstance(obj[k], t), f"{where}: '{k}' is {type(obj[k]).__name__}")
    need(not set(obj) - set(want), f"{where}: unknown fields {sorted(set(obj) - set(want))}")


verb, doc = sys.argv[1], json.load(open(sys.argv[2]))
extra, results, good = VERBS[verb]
fields(doc, {**COMMON, **extra}, "report")
need(doc.get("schema") == 1, "report: schema is not 1")
need(doc.get("verb") == verb, f"report: verb is {doc.get('verb')!r}")
need(doc.get("result") in results, f"report: result {doc.get('result')!r}")
need((doc.get("error") is None) == (doc.get("result") != "failed"), "report: an error exactly when failed")
need((doc.get("exit_status") == 0) == (doc.get("result") in good), "report: exit status 0 exactly when it succeeded")
for key, (want, statuses) in ITEMS.items():
    for i, item in enumerate(doc.get(key, []) if isinstance(doc.get(key), list) else []):
        need(isinstance(item, dict), f"{key}[{i}] is not an object")
        if isinstance(item, dict):
            fields(item, want, f"{key}[{i}]")
            if statuses:
                need(item.get("status") in statuses, f"{key}[{i}]: status {item.get('status')!r}")
for key in ("differences", "package_differences"):
    need(all(isinstance(x, str) for x in doc.get(key, []) or []), f"{key}: not all strings")
if verb == "verify":
    matched = all(a.get("status") == "match" for a in doc.get("artifacts", [])) and not doc.get("package_differences")
    need(doc.get("result") != "match" or (matched and doc.get("artifacts")), "verify: match with a non-matching item")
    need(doc.get("result") != "differs" or not matched, "verify: differs with every item matching")
if verb == "compare":
    need((doc.get("result") == "differ") == bool(doc.get("differences")), "compare: differ exactly with differences")
for arg in sys.argv[3:]:
    k, v = arg.split("=", 1)
    need(str(doc.get(k)) == v, f"report: {k} is {doc.get(k)!r}, not {v!r}")

for p in problems:
    print(f"FAIL {p}")
if not problems:
    print(f"ok {verb} {doc.get('result')}")
sys.exit(1 if problems else 0)
