"""Compare recorded events (trace show --format json) with the calls a test
program reports (ROLE SYSCALL key=value ...), between its begin/end markers.
ROLE: M main thread, T other thread of the main process, C other process.
Every listed key must equal the recorded field; the sequence per role must
match exactly (same calls, same order, nothing extra)."""
import json, sys

evs = [json.loads(l) for l in open(sys.argv[1])]
exp = [l.split() for l in open(sys.argv[2]) if l.strip()]
b = next(i for i, e in enumerate(evs) if e.get("path") == "/.lfs-trace-begin")
z = next(i for i, e in enumerate(evs) if e.get("path") == "/.lfs-trace-end")
main = evs[b]["pid"]
got = {"M": [], "T": [], "C": []}
for e in evs[b + 1:z]:
    if e["syscall"].startswith(("proc_", "cwd_", "fd_snap", "lost")):
        continue
    role = "C" if e["pid"] != main else ("M" if e["tid"] == main else "T")
    got[role].append(e)
want = {"M": [], "T": [], "C": []}
for w in exp:
    want[w[0]].append(w[1:])
bad = 0
for role in "MTC":
    g, w = got[role], want[role]
    for i in range(max(len(g), len(w))):
        ge = g[i] if i < len(g) else None
        we = w[i] if i < len(w) else None
        msg = None
        if ge is None:
            msg = "missing (expected %s)" % " ".join(we)
        elif we is None:
            msg = "extra event %s" % json.dumps(ge)
        elif ge["syscall"] != we[0]:
            msg = "expected %s, got %s" % (" ".join(we), json.dumps(ge))
        else:
            for kv in we[1:]:
                k, v = kv.split("=", 1)
                if str(ge.get(k)) != v:
                    msg = "%s: %s=%s, recorded %s (%s)" % (we[0], k, v, ge.get(k), json.dumps(ge))
                    break
        if msg:
            print("%s[%d]: %s" % (role, i, msg))
            bad += 1
            if bad > 10:
                sys.exit(1)
print("compared M=%d T=%d C=%d events" % (len(got["M"]), len(got["T"]), len(got["C"])))
sys.exit(1 if bad else 0)
