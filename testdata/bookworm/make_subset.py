#!/usr/bin/env python3
"""Cut a test fixture from a real Debian `Packages` index.

Keeps every package reachable from the 15 top-level packages below through
Depends and Pre-Depends, taking *every* alternative and *every* provider of a
virtual package (a deliberate over-approximation, independent of debvault's own
resolver), plus a few hundred unrelated packages as decoys. Stanzas are kept
verbatim. Usage:

    /usr/lib/apt/apt-helper cat-file /var/lib/apt/lists/*_bookworm_main_binary-amd64_Packages.* \
        | python3 make_subset.py | xz -9 > Packages.xz
"""
import re
import sys

TOP = ["curl", "git", "openssh-client", "jq", "nginx", "python3", "vim-tiny", "ca-certificates",
       "rsync", "gnupg", "less", "htop", "tmux", "zstd", "unzip"]

stanzas = sys.stdin.read().strip("\n").split("\n\n")
by_name, providers = {}, {}
for s in stanzas:
    fields = dict(re.findall(r"^([A-Za-z0-9-]+):[ \t]*(.*)$", s, re.M))
    name = fields["Package"]
    by_name.setdefault(name, []).append((s, fields))
    for p in fields.get("Provides", "").split(","):
        p = p.strip().split(" ")[0]
        if p:
            providers.setdefault(p, []).append(name)

keep, todo = set(), list(TOP)
while todo:
    n = todo.pop()
    if n in keep:
        continue
    targets = [n] if n in by_name else providers.get(n, [])
    for t in targets:
        if t in keep:
            continue
        keep.add(t)
        for _, f in by_name[t]:
            for field in ("Pre-Depends", "Depends"):
                for item in f.get(field, "").split(","):
                    for alt in item.split("|"):
                        alt = re.sub(r"\(.*?\)|\[.*?\]|<.*?>", "", alt).strip().split(":")[0]
                        if alt:
                            todo.append(alt)

decoys = sorted(set(by_name) - keep)[:: max(1, len(by_name) // 300)]
out = [s for n in sorted(keep | set(decoys)) for s, _ in by_name.get(n, [])]
sys.stdout.write("\n\n".join(out) + "\n")
print(f"{len(keep)} closure packages, {len(decoys)} decoys", file=sys.stderr)
