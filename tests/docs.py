#!/usr/bin/env python3
"""tests/docs.py: the checks of tests/docs.bats on README.md, docs/*.md and the man page source.

    tests/docs.py links FILE.md...       every relative link: its file exists, its #anchor is a heading
    tests/docs.py samples FILE.md...     runs the command samples (below); PIMC: the binary to run
    tests/docs.py options MAN.scd        the options of `$PIMC --help` against the man page's

Prints one line per problem and exits 1 if there is any, 0 otherwise.

Command samples. A fenced block with a line `$ pimc-omp ...` (VAR=value words may come first) is a
command sample: every `$ ` line in it runs, in order, with bash, in one scratch directory that links
the checkout's top-level directories (so `tests/reference.py` and `results/...` work), with PIMC's
directory first on PATH and no OMP_*, PIMC_* or SLURM_* variables but the sample's own. Each must
exit 0. The lines after a command, up to the next `$ ` line or the fence, are its output, compared by
shape: line for line, each line's label must be the program's -- its text up to the first word with
a digit in it or the first run of two spaces ("  parallel time", "check hits: PASS") -- so that
times, counts and versions may differ but a line renamed, added or dropped fails. A line that is a
bare number (hits, as `| python3 -c ...` prints them) must be exact; a line `...` stands for any
number of lines; a command shown without output may print anything. A sample that cannot run in a
test (too long, or its output depends on the CPU) has, on the line before its fence,
    <!-- docs.bats: not run: REASON -->
"""
import os
import re
import subprocess
import sys
import tempfile

# The checkout; DOCS_ROOT: another tree (tests/docs.bats checks the checker on one of its own).
ROOT = os.path.realpath(os.environ.get("DOCS_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FENCE = re.compile(r"^(\s*)(```+|~~~+)(.*)$")
NOT_RUN = re.compile(r"^<!--\s*docs\.bats:\s*not run:\s*(.+?)\s*-->\s*$")
PIMC_COMMAND = re.compile(r"^\$ (?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*pimc-omp(?:\s|$)")


def blocks(path):
    """(first line number, the line before the fence, info string, lines) of each fenced block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(m.group(2)) and
                                      lines[i].strip().strip(m.group(2)[0]) == ""):
            body.append(lines[i])
            i += 1
        yield start, before, m.group(3).strip(), body
        i += 1


def prose(path):
    """The file's lines outside fenced blocks and HTML comments, with their numbers."""
    lines = open(path, encoding="utf-8").read().split("\n")
    fence = None
    for number, line in enumerate(lines, 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(2)
            continue
        if fence is not None:
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                fence = None
            continue
        yield number, line


# ---- links ---------------------------------------------------------------------------------------

def slug(heading):
    """GitHub's anchor of a heading: the rendered text, lower case, punctuation but - and _ dropped,
    spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = re.sub(r"(?<![\w])_(?=\S)|(?<=\S)_(?![\w])", "", text)  # _emphasis_ markers
    text = text.replace("*", "").replace("`", "")
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    seen, found = {}, set()
    for _, line in prose(path):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(path):
    """(line number, target) of every inline link, image and reference definition outside code."""
    for number, line in prose(path):
        line = re.sub(r"`[^`]*`", "", line)  # code spans
        for m in re.finditer(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", line):
            yield number, m.group(1)
        m = re.match(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\".*\")?\s*$", line)
        if m:
            yield number, m.group(1)


def check_links(files):
    problems = []
    for path in files:
        for number, target in links(path):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
                continue
            where = f"{os.path.relpath(path, ROOT)}:{number}: link '{target}'"
            file_part, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            if not os.path.exists(dest):
                problems.append(f"{where}: no such file {os.path.relpath(dest, ROOT)}")
                continue
            if not os.path.realpath(dest).startswith(ROOT + os.sep):
                problems.append(f"{where}: outside the repository")
                continue
            if anchor:
                if not dest.endswith(".md"):
                    problems.append(f"{where}: an anchor into a file that is not Markdown")
                elif anchor not in anchors(dest):
                    problems.append(f"{where}: no heading with anchor #{anchor} in {os.path.relpath(dest, ROOT)}"
                                    f" (there: {', '.join(sorted(anchors(dest))) or 'none'})")
    return problems


# ---- command samples -----------------------------------------------------------------------------

def label(line):
    """The part of a line the program always prints the same: up to the first word with a digit or
    the first two spaces in a row. None for a bare number, which is compared whole."""
    if re.fullmatch(r"\s*-?\d+\s*", line):
        return None
    indent = re.match(r"\s*", line).group(0)
    words = []
    for gap, word in re.findall(r"(\s*)(\S+)", line[len(indent):]):
        if (words and len(gap) >= 2) or re.search(r"\d", word):
            break
        words.append(word)
    return indent + " ".join(words)


def same_shape(expected, actual):
    """Whether actual matches expected line for line, '...' standing for any number of lines."""
    if not expected:
        return not actual
    if expected[0].strip() == "...":
        return any(same_shape(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    if not actual:
        return False
    e, a = expected[0], actual[0]
    fits = e.strip() == a.strip() if label(e) is None else label(e) == label(a)
    return fits and same_shape(expected[1:], actual[1:])


def samples(path):
    """(line, [(command, expected output lines)], reason not run or None) of each command sample."""
    for start, before, _, body in blocks(path):
        if not any(PIMC_COMMAND.match(line) for line in body):
            continue
        commands = []
        for line in body:
            if line.startswith("$ "):
                commands.append((line[2:], []))
            elif commands:
                commands[-1][1].append(line)
        while commands and commands[-1][1] and not commands[-1][1][-1].strip():
            commands[-1][1].pop()
        m = NOT_RUN.match(before.strip())
        yield start, commands, m.group(1) if m else None


def scratch_env(pimc):
    env = {k: v for k, v in os.environ.items() if not re.match(r"^(OMP_|PIMC_|SLURM_|GOMP_|KMP_)", k)}
    env["PATH"] = os.path.dirname(os.path.abspath(pimc)) + os.pathsep + env.get("PATH", "")
    env["PIMC"] = os.path.abspath(pimc)
    return env


def run_samples(files, pimc):
    problems = []
    for path in files:
        for start, commands, reason in samples(path):
            where = f"{os.path.relpath(path, ROOT)}:{start}"
            if reason is not None:
                print(f"# {where}: sample not run: {reason}")
                continue
            with tempfile.TemporaryDirectory(prefix="pimc-docs-") as scratch:
                for entry in os.listdir(ROOT):
                    if not entry.startswith(".") and os.path.isdir(os.path.join(ROOT, entry)):
                        os.symlink(os.path.join(ROOT, entry), os.path.join(scratch, entry))
                for command, expected in commands:
                    print(f"# {where}: $ {command}")
                    try:
                        done = subprocess.run(["bash", "-c", command], cwd=scratch, env=scratch_env(pimc),
                                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                              timeout=600)
                    except subprocess.TimeoutExpired:
                        problems.append(f"{where}: $ {command}: still running after 600 s")
                        break
                    actual = done.stdout.rstrip("\n").split("\n") if done.stdout.strip() else []
                    if done.returncode != 0:
                        problems.append(f"{where}: $ {command}: exit status {done.returncode}: "
                                        f"{done.stderr.strip()[-500:]}")
                        break
                    if expected and not same_shape(expected, actual):
                        problems.append(f"{where}: $ {command}: the output has another shape than the sample's\n"
                                        + "\n".join(f"    sample:  {e}" for e in expected) + "\n"
                                        + "\n".join(f"    program: {a}" for a in actual))
    return problems


# ---- options: --help against the man page --------------------------------------------------------

def help_options(text):
    """{long option: short option or None} of --help's option lines ('  -t, --threads N', '      --json')."""
    found = {}
    for line in text.split("\n"):
        m = re.match(r"^ {2}(-[A-Za-z]), (--[a-z][a-z0-9-]*)\b", line) or re.match(r"^ {6}()(--[a-z][a-z0-9-]*)\b", line)
        if m:
            found[m.group(2)] = m.group(1) or None
    return found


def man_options(path):
    """The same of the man page source's OPTIONS section ('*-t*, *--threads* _N_', '*--json*')."""
    found, in_options = {}, False
    for _, line in prose(path):
        if line.startswith("# "):
            in_options = line.strip() == "# OPTIONS"
            continue
        m = (re.match(r"^\*(-[A-Za-z])\*, \*(--[a-z][a-z0-9-]*)\*", line) or
             re.match(r"^\*()(--[a-z][a-z0-9-]*)\*", line))
        if in_options and m:
            found[m.group(2)] = m.group(1) or None
    return found


def check_options(man_path, pimc):
    text = subprocess.run([pimc, "--help"], stdout=subprocess.PIPE, text=True, check=True).stdout
    in_help, in_man = help_options(text), man_options(man_path)
    problems = []
    if len(in_help) < 10:
        problems.append(f"--help: only {len(in_help)} options found; has its layout changed?")
    for option in sorted(set(in_help) - set(in_man)):
        problems.append(f"{option} is in --help but not in the man page's OPTIONS ({os.path.relpath(man_path, ROOT)})")
    for option in sorted(set(in_man) - set(in_help)):
        problems.append(f"{option} is in the man page's OPTIONS but not in --help")
    for option in sorted(set(in_help) & set(in_man)):
        if in_help[option] != in_man[option]:
            problems.append(f"{option}: short form {in_help[option]} in --help, {in_man[option]} in the man page")
    return problems


def main(argv):
    if len(argv) < 2 or argv[0] not in ("links", "samples", "options"):
        sys.exit(__doc__)
    files = [os.path.realpath(f) for f in argv[1:]]
    if argv[0] == "links":
        problems = check_links(files)
    elif argv[0] == "samples":
        problems = run_samples(files, os.environ["PIMC"])
    else:
        problems = check_options(files[0], os.environ["PIMC"])
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
