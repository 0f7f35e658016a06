# Replaces production's secret values in the files seeded into a rehearsal host, run there as root by
# io.runbook.rehearsal.Scrubber. Reads {"paths": [...], "pairs": [[old, new], ...]} on stdin; writes
# {"files": [...], "members": [...]} (paths only, never a value). Text files only (a NUL in the first 8 KiB
# marks a binary file, whose length must not change); a .tar.gz is rewritten member by member, same
# owners, modes and times, and its lines in the SHA256SUMS beside it are recomputed, so restores of it
# still verify.
import hashlib, io, json, os, sys, tarfile

req = json.load(sys.stdin)
pairs = [(o.encode(), n.encode()) for o, n in req["pairs"] if o]

def scrub(data):
    if b"\0" in data[:8192]:
        return None
    out = data
    for old, new in pairs:
        out = out.replace(old, new)
    return out if out != data else None

def sha(data):
    return hashlib.sha256(data).hexdigest()

def archive(path, members):
    with tarfile.open(path, "r:gz") as t:
        entries = [(m, t.extractfile(m).read() if m.isreg() else None) for m in t.getmembers()]
        fmt = t.format
    changed = {}
    for m, data in entries:
        if data is not None:
            new = scrub(data)
            if new is not None:
                changed[m.name] = new
    if not changed:
        return False
    st = os.stat(path)
    tmp = path + ".rehearsal-scrub"
    with tarfile.open(tmp, "w:gz", format=fmt) as t:
        for m, data in entries:
            if m.name in changed:
                data = changed[m.name]
                m.size = len(data)
            t.addfile(m, io.BytesIO(data) if data is not None else None)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, st.st_mode & 0o7777)
    os.replace(tmp, path)
    d, base = os.path.split(path)
    name = base[: -len(".tar.gz")]
    sums = os.path.join(d, "SHA256SUMS")
    if os.path.isfile(sums):
        with open(path, "rb") as f:
            whole = sha(f.read())
        lines = []
        with open(sums) as f:
            for line in f.read().splitlines():
                h, _, file = line.partition("  ")
                if file == base:
                    line = whole + "  " + file
                elif file.startswith(name + "/") and file[len(name) + 1:] in changed:
                    line = sha(changed[file[len(name) + 1:]]) + "  " + file
                lines.append(line)
        with open(sums, "w") as f:
            f.write("".join(l + "\n" for l in lines))
    members.extend(path + ":" + n for n in sorted(changed))
    return True

def walk(root):
    if os.path.isfile(root):
        yield root
        return
    for d, _, names in os.walk(root):
        for n in names:
            yield os.path.join(d, n)

files, members = [], []
seen = set()
for root in req["paths"]:
    for p in walk(root):
        if p in seen or os.path.islink(p) or not os.path.isfile(p):
            continue
        seen.add(p)
        if p.endswith(".tar.gz"):
            if archive(p, members):
                files.append(p)
            continue
        with open(p, "rb") as f:
            data = f.read()
        new = scrub(data)
        if new is not None:
            with open(p, "r+b") as f:
                f.write(new)
                f.truncate()
            files.append(p)
json.dump({"files": files, "members": members}, sys.stdout)
