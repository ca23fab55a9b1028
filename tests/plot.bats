#!/usr/bin/env bats
# bench/table and bench/plot against the CSV fixtures in tests/fixtures/:
#   strong.csv     strong sweep, 1e10 throws, threads 1 2 4 8, rows run=0..2 and run=median (min/max
#                  filled), 8 threads oversubscribed on 4 usable CPUs; then a later single run at 2 threads
#                  (must lose to the median row) and a partial run (must be ignored)
#   weak.csv       weak sweep, 2.5e9 throws per thread, threads 1 2 4, one run each; 2 threads run twice
#                  (the later row wins); a later partial row (ignored)
#   malformed.csv  a row cut short by a killed writer
# Run: bats --tap tests/plot.bats

bats_require_minimum_version 1.5.0

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    FIXTURES="$ROOT/tests/fixtures"
    TABLE="$ROOT/bench/table"
    PLOT="$ROOT/bench/plot"
    WORK="$BATS_TEST_TMPDIR"
}

# Markdown tables on stdin -> one line per row (header included), cells joined by '|' without padding;
# the |---:| lines dropped; "--" between two tables.
md_rows() {
    python3 -c '
import sys
rows, in_table = 0, False
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("|"):
        in_table = False
        continue
    cells = [c.strip() for c in line.strip("|").split("|")]
    if all(c and set(c) <= set(":-") for c in cells):
        continue
    if not in_table and rows:
        print("--")
    print("|".join(cells))
    rows, in_table = rows + 1, True
'
}

assert_equal() { # actual expected
    if [ "$1" != "$2" ]; then
        printf 'expected:\n%s\nactual:\n%s\n' "$2" "$1"
        return 1
    fi
}

# Width and height from a PNG's IHDR chunk (after checking the signature).
png_size() {
    python3 - "$1" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read(24)
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
assert data[12:16] == b"IHDR", "first chunk is not IHDR"
print("%dx%d" % struct.unpack(">II", data[16:24]))
EOF
}

# The text of every <text> element of an SVG, one per line (fails unless the file parses as SVG XML).
svg_texts() {
    python3 - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
assert any(e.tag.endswith("path") for e in root.iter()), "no <path> drawn"
for e in root.iter("{http://www.w3.org/2000/svg}text"):
    text = "".join(e.itertext()).strip()
    if text:
        print(text)
EOF
}

# "label x" of the cores-axis tic labels of panel (a): the lowest row of numbers in the left half.
svg_xtics() {
    python3 - "$1" <<'EOF'
import re, sys
import xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
labels = []
for g in ET.parse(sys.argv[1]).getroot().iter(NS + "g"):
    at = re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", g.get("transform", ""))
    for t in g.findall(NS + "text"):
        text = "".join(t.itertext()).strip()
        if at and re.fullmatch(r"[\d.]+", text) and float(at.group(1)) < 640:
            labels.append((float(at.group(2)), float(at.group(1)), text))
row = max(y for y, _, _ in labels)
for y, x, text in sorted(labels, key=lambda l: l[1]):
    if y == row:
        print(text, x)
EOF
}

# A copy of a fixture with rows kept by a Python condition on the row dict r (and optional edits).
filtered_csv() { # fixture out condition [edit statements]
    python3 - "$FIXTURES/$1" "$2" "$3" "${4:-pass}" <<'EOF'
import csv, sys
src, out, cond, edit = sys.argv[1:]
with open(src, newline="") as f:
    reader = csv.DictReader(f)
    rows = list(reader)
with open(out, "w", newline="") as f:
    w = csv.DictWriter(f, reader.fieldnames, lineterminator="\n")
    w.writeheader()
    for r in rows:
        if eval(cond):
            exec(edit)
            w.writerow(r)
EOF
}

@test "table --markdown: strong sweep takes the median rows, T1 from the 1-thread row, min/max and oversubscribed" {
    run --separate-stderr "$TABLE" "$FIXTURES/strong.csv" --markdown
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    assert_equal "$(md_rows <<<"$output")" "$(cat <<'EOF'
CPU cores|run time [s]|speedup|efficiency|min [s]|max [s]|note
1|3.115|1.00|1.00|3.108|3.121|
2|1.571|1.98|0.99|1.566|1.580|
4|0.801|3.89|0.97|0.794|0.812|
8|0.846|3.68|0.46|0.831|0.879|oversubscribed
EOF
)"
    [[ "${lines[0]}" == "**strong scaling, 1e10 throws**: AMD EPYC 7763 64-Core Processor, kernel avx2, host node0042; T1 = 3.115 s from the 1-thread row" ]]
}

@test "table --markdown: weak sweep takes the latest complete row, efficiency = T1/Tp, no min/max for one run" {
    run --separate-stderr "$TABLE" "$FIXTURES/weak.csv" --markdown
    [ "$status" -eq 0 ]
    assert_equal "$(md_rows <<<"$output")" "$(cat <<'EOF'
CPU cores|run time [s]|speedup|efficiency
1|0.779|1.00|1.00
2|0.785|1.98|0.99
4|0.801|3.89|0.97
EOF
)"
    [[ "${lines[0]}" == "**weak scaling, 2.5e9 throws per thread**:"* ]]
}

@test "table: without a 1-thread row, T1 is serial_s and the table starts with '1 (serial)'" {
    filtered_csv strong.csv "$WORK/no1.csv" 'r["threads"] != "1"'
    run --separate-stderr "$TABLE" "$WORK/no1.csv" --markdown
    [ "$status" -eq 0 ]
    assert_equal "$(md_rows <<<"$output" | cut -d'|' -f1-4)" "$(cat <<'EOF'
CPU cores|run time [s]|speedup|efficiency
1 (serial)|3.114|1.00|1.00
2|1.571|1.98|0.99
4|0.801|3.89|0.97
8|0.846|3.68|0.46
EOF
)"
    [[ "${lines[0]}" == *"T1 = 3.114 s from serial_s of the 2-thread row" ]]
}

@test "table: strong rows with different throws make one table each" {
    filtered_csv strong.csv "$WORK/small.csv" 'r["status"] == "complete"' \
        'r["throws"] = r["throws_requested"] = "1000000000"; r["parallel_s"] = "%.6f" % (float(r["parallel_s"]) / 10)'
    { cat "$FIXTURES/strong.csv"; tail -n +2 "$WORK/small.csv"; } > "$WORK/both.csv"
    run --separate-stderr "$TABLE" "$WORK/both.csv" --markdown
    [ "$status" -eq 0 ]
    [ "$(grep -c '^\*\*strong scaling' <<<"$output")" -eq 2 ]
    [[ "$(grep '^\*\*' <<<"$output" | head -1)" == "**strong scaling, 1e9 throws**"* ]]
    [[ "$(grep '^\*\*' <<<"$output" | tail -1)" == "**strong scaling, 1e10 throws**"* ]]
    assert_equal "$(md_rows <<<"$output" | cut -d'|' -f1,2)" "$(cat <<'EOF'
CPU cores|run time [s]
1|0.3115
2|0.1571
4|0.0801
8|0.0846
--
CPU cores|run time [s]
1|3.115
2|1.571
4|0.801
8|0.846
EOF
)"
}

@test "table: terminal output has right-aligned columns" {
    run --separate-stderr "$TABLE" "$FIXTURES/strong.csv"
    [ "$status" -eq 0 ]
    assert_equal "$output" "$(cat <<'EOF'
strong scaling, 1e10 throws
AMD EPYC 7763 64-Core Processor, kernel avx2, host node0042; T1 = 3.115 s from the 1-thread row
CPU cores  run time [s]  speedup  efficiency  min [s]  max [s]  note
        1         3.115     1.00        1.00    3.108    3.121
        2         1.571     1.98        0.99    1.566    1.580
        4         0.801     3.89        0.97    0.794    0.812
        8         0.846     3.68        0.46    0.831    0.879  oversubscribed
EOF
)"
}

@test "table: a CSV it cannot use is refused with exit 2 and one line on stderr" {
    filtered_csv strong.csv "$WORK/partial-only.csv" 'r["status"] == "partial"'
    python3 -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
i = rows[0].index("parallel_s")
csv.writer(open(sys.argv[2], "w"), lineterminator="\n").writerows([r[:i] + r[i + 1:] for r in rows])' \
        "$FIXTURES/strong.csv" "$WORK/no-parallel_s.csv"
    printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\5\0' > "$WORK/binary.csv"    # not text
    : > "$WORK/empty.csv"
    for input in "$FIXTURES/malformed.csv" "$WORK/partial-only.csv" "$WORK/no-parallel_s.csv" \
                 "$WORK/binary.csv" "$WORK/empty.csv" "$WORK/missing.csv"; do
        run --separate-stderr "$TABLE" "$input" --markdown
        echo "$input: status $status, stderr: $stderr"
        [ "$status" -eq 2 ]
        [ -z "$output" ]
        [ "$(wc -l <<<"$stderr")" -eq 1 ]
        [[ "$stderr" == "bench/table: $input: "* ]]
    done
    run --separate-stderr "$TABLE" "$FIXTURES/malformed.csv"
    [[ "$stderr" == *"line 4: 5 fields, the header has 39"* ]]
    run --separate-stderr "$TABLE" "$WORK/no-parallel_s.csv"
    [[ "$stderr" == *"no column parallel_s"* ]]
    run --separate-stderr "$TABLE" "$WORK/partial-only.csv"
    [[ "$stderr" == *"no usable rows"* ]]
    run --separate-stderr "$TABLE" "$WORK/binary.csv"
    [[ "$stderr" == *"not a text (UTF-8) file"* ]]
    run --separate-stderr "$TABLE" "$FIXTURES/strong.csv" --bogus
    [ "$status" -eq 2 ]
}

@test "plot: SVG and PNG next to the CSV, title and subtitle from the rows, nothing else left behind" {
    mkdir "$WORK/out"
    cp "$FIXTURES/strong.csv" "$WORK/out/"
    run --separate-stderr "$PLOT" "$WORK/out/strong.csv"
    echo "$stderr"
    [ "$status" -eq 0 ]
    assert_equal "$(ls -A "$WORK/out")" "$(printf '%s\n' strong.csv strong.png strong.svg)"
    [ -s "$WORK/out/strong.svg" ]
    if command -v xmllint >/dev/null; then xmllint --noout "$WORK/out/strong.svg"; fi
    texts="$(svg_texts "$WORK/out/strong.svg")"
    grep -qxF 'pimc-omp strong scaling' <<<"$texts"
    grep -qxF 'host node0042   |   AMD EPYC 7763 64-Core Processor   |   1e10 throws   |   kernel avx2' <<<"$texts"
    grep -qxF '(a) run time vs CPU cores' <<<"$texts"
    grep -qxF '(b) speedup vs CPU cores' <<<"$texts"
    grep -qxF 'run time [s]' <<<"$texts"
    grep -qxF 'ideal T1/p' <<<"$texts"
    grep -qxF 'ideal (speedup = cores)' <<<"$texts"
    grep -qxF 'measured (median, min..max)' <<<"$texts"
    grep -qxF 'oversubscribed (threads > usable CPUs)' <<<"$texts"
    [ "$(png_size "$WORK/out/strong.png")" = "1280x600" ]
    [ "$(stat -c %s "$WORK/out/strong.png")" -gt 20000 ]
}

@test "plot --loglog --out-prefix: log2 cores axis, files at the prefix" {
    run --separate-stderr "$PLOT" "$FIXTURES/strong.csv" --out-prefix "$WORK/lin"
    [ "$status" -eq 0 ]
    run --separate-stderr "$PLOT" "$FIXTURES/strong.csv" --loglog --out-prefix "$WORK/log"
    [ "$status" -eq 0 ]
    assert_equal "$output" "$(printf '%s\n' "$WORK/log.svg" "$WORK/log.png")"
    [ "$(png_size "$WORK/log.png")" = "1280x600" ]
    # a linear cores axis has the tics 0..8; log2 axes (cores, time, speedup) only powers of two
    lin="$(svg_texts "$WORK/lin.svg")"
    log="$(svg_texts "$WORK/log.svg")"
    grep -qx '[3567]' <<<"$lin"
    [ "$(grep -cx '[3567]' <<<"$log")" -eq 0 ]
    # on the log2 cores axis 1, 2, 4, 8 are evenly spaced; on the linear one 2..4 is twice 1..2
    svg_xtics "$WORK/log.svg" | awk '{ l = l $1 " "; x[NR] = $2 }
        END { exit !(l == "1 2 4 8 " && (x[3] - x[2]) - (x[2] - x[1]) < 1 && (x[2] - x[1]) - (x[3] - x[2]) < 1 &&
                     (x[4] - x[3]) - (x[2] - x[1]) < 1 && (x[2] - x[1]) - (x[4] - x[3]) < 1) }'
    svg_xtics "$WORK/lin.svg" | awk '{ x[$1] = $2 }
        END { d = (x[4] - x[2]) - 2 * (x[2] - x[1]); exit !(d < 1 && d > -1 && x[2] > x[1]) }'
    [ ! -e "$FIXTURES/strong.svg" ]
}

@test "plot: weak sweep has the flat ideal time and scaled speedup, no error bars for single runs" {
    run --separate-stderr "$PLOT" "$FIXTURES/weak.csv" --out-prefix "$WORK/weak"
    [ "$status" -eq 0 ]
    texts="$(svg_texts "$WORK/weak.svg")"
    grep -qxF 'pimc-omp weak scaling' <<<"$texts"
    grep -qF '2.5e9 throws/thread' <<<"$texts"
    grep -qxF 'ideal T1 (weak)' <<<"$texts"
    grep -qxF 'scaled speedup p*T1/Tp' <<<"$texts"
    grep -qxF 'measured' <<<"$texts"
    [ "$(png_size "$WORK/weak.png")" = "1280x600" ]
}

@test "plot: a CSV it cannot use is refused with exit 2, one line on stderr, and no file written" {
    mkdir "$WORK/bad"
    cp "$FIXTURES/malformed.csv" "$WORK/bad/"
    filtered_csv strong.csv "$WORK/bad/partial-only.csv" 'r["status"] == "partial"'
    printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\5\0' > "$WORK/bad/binary.csv"
    before="$(ls -A "$WORK/bad")"
    for input in malformed.csv partial-only.csv binary.csv missing.csv; do
        run --separate-stderr "$PLOT" "$WORK/bad/$input"
        echo "$input: status $status, stderr: $stderr"
        [ "$status" -eq 2 ]
        [ -z "$output" ]
        [ "$(wc -l <<<"$stderr")" -eq 1 ]
        [[ "$stderr" == "bench/plot: $WORK/bad/$input: "* ]]
        assert_equal "$(ls -A "$WORK/bad")" "$before"
    done
    run --separate-stderr "$PLOT" "$WORK/bad/malformed.csv" --out-prefix "$WORK/bad/x"
    [ "$status" -eq 2 ]
    assert_equal "$(ls -A "$WORK/bad")" "$before"
}

@test "plot: an output it cannot write is exit 4, and nothing is written" {
    run --separate-stderr "$PLOT" "$FIXTURES/strong.csv" --out-prefix "$WORK/no/such/dir/fig"
    [ "$status" -eq 4 ]
    [[ "$stderr" == "bench/plot: cannot write $WORK/no/such/dir/fig.svg: No such file or directory" ]]
    mkdir "$WORK/taken" "$WORK/taken/fig.png"      # the PNG's name is a directory
    run --separate-stderr "$PLOT" "$FIXTURES/strong.csv" --out-prefix "$WORK/taken/fig"
    [ "$status" -eq 4 ]
    assert_equal "$(ls -A "$WORK/taken")" "fig.png"
    [ -d "$WORK/taken/fig.png" ]
}
