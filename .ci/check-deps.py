#!/usr/bin/env python3
"""The workspace's dependency rule (ARCHITECTURE.md), checked over `cargo metadata`.

Only normal dependencies between workspace crates are checked: a test may
bring up another service in-process (dev-dependencies), production code may not.

- A service is a name X with a crate `starling-X` (its domain) beside a
  `starling-X-store` or `starling-X-api`.
- A domain crate `starling-X` depends on no workspace crate but starling-common.
- `starling-db` (the SQL engine) knows no service: starling-common only.
- `starling-X-store` depends only on starling-common, starling-db and starling-X.
- `starling-X-types` (a service's wire shapes) depends only on starling-wire
  and starling-common: a client or CLI that reads them links no domain.
- `starling-X-api` uses another service Y only through `starling-Y-types` and
  `starling-Y-client`.
- Only the daemon (starling-server) depends on more than one `*-api` crate.

Exit status 1 and one line per broken rule; 0 and a summary line otherwise.
"""

import json
import subprocess
import sys

meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)

PREFIX = "starling-"
deps = {}
for p in meta["packages"]:
    deps[p["name"]] = sorted(
        d["name"]
        for d in p["dependencies"]
        if d["name"].startswith(PREFIX) and d["kind"] is None
    )

names = set(deps)
SUFFIXES = ("-store", "-api", "-types", "-client")
services = {
    n[len(PREFIX):]
    for n in names
    if any(f"{n}{s}" in names for s in ("-store", "-api"))
}


def service_of(crate):
    """The service a crate belongs to, or None for shared crates."""
    short = crate[len(PREFIX):]
    if short in services:
        return short
    for s in SUFFIXES:
        if short.endswith(s) and short[: -len(s)] in services:
            return short[: -len(s)]
    return None


broken = []
for crate, ds in sorted(deps.items()):
    svc = service_of(crate)
    short = crate[len(PREFIX):]
    if short in services or crate == "starling-db":
        for d in ds:
            if d != "starling-common":
                broken.append(f"{crate} is domain-free but depends on {d}")
    elif svc and short == f"{svc}-store":
        for d in ds:
            if d not in ("starling-common", "starling-db", f"starling-{svc}"):
                broken.append(f"{crate} may depend only on common, db and {svc}, not {d}")
    elif svc and short == f"{svc}-types":
        for d in ds:
            if d not in ("starling-common", "starling-wire"):
                broken.append(f"{crate} may depend only on common and wire, not {d}")
    elif svc and short == f"{svc}-api":
        for d in ds:
            other = service_of(d)
            if other and other != svc and not d.endswith(("-types", "-client")):
                broken.append(
                    f"{crate} uses service {other} through {d}: only {other}-types or {other}-client"
                )
    apis = [d for d in ds if d.endswith("-api")]
    if len(apis) > 1 and crate != "starling-server":
        broken.append(f"{crate} depends on several API crates ({', '.join(apis)}): only starling-server may")

for b in broken:
    print(f"dependency rule: {b}")
if broken:
    sys.exit(1)
print(
    f"dependency rule holds: {len(deps)} crates, services {', '.join(sorted(services))}"
)
