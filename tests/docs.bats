#!/usr/bin/env bats
# The documentation against the program (tests/docs.py does the work; its header has the rules):
#   - every relative link in README.md and docs/*.md: the file exists, the #anchor is a heading of it;
#   - the command samples (fenced blocks with a `$ pimc-omp` line) run, and their output keeps the
#     sample's shape: a report line renamed, added or dropped, or a hit count changed, fails; times do
#     not. A sample that cannot run here says why on the line before its fence:
#     <!-- docs.bats: not run: REASON -->
#   - the man page's OPTIONS (doc/pimc-omp.1.scd) and --help list the same options, both ways: an
#     option added to --help fails here until the man page has it.
# Then the checker itself, on samples and links made wrong on purpose. PIMC is the binary.

bats_require_minimum_version 1.5.0

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
    DOCS=("$ROOT/README.md" "$ROOT"/docs/*.md)
    CHECK=("python3" "$BATS_TEST_DIRNAME/docs.py")
}

@test "every relative link in README.md and docs/*.md leads to a file, and to a heading for an #anchor" {
    run -0 "${CHECK[@]}" links "${DOCS[@]}"
}

@test "the command samples in README.md and docs/*.md run, and print what they show (by shape)" {
    run -0 "${CHECK[@]}" samples "${DOCS[@]}"
    # Not a vacuous pass: the README's report sample and the reproducing page's hits ran.
    [[ $output == *"# README.md:"*": \$ OMP_PROC_BIND=close OMP_PLACES=cores pimc-omp --repeat 5"* ]]
    [[ $output == *"# docs/reproducing.md:"*": \$ pimc-omp --seed 12345 --json 100001 |"* ]]
}

@test "--help and the man page source list the same options, with the same short forms" {
    run -0 "${CHECK[@]}" options "$ROOT/doc/pimc-omp.1.scd"
}

@test "the checker: a sample whose report line is renamed, or whose hits differ, fails; 'not run' skips" {
    cat >"$BATS_TEST_TMPDIR/page.md" <<'MD'
Right:

```
$ pimc-omp -t 1 --no-serial 1e5
pimc-omp v9  Monte Carlo pi
  threads       1 (from option; 1 usable CPU)
...
  verification  PASSED: estimate within 0.1 standard errors of pi (limit 5)
$ pimc-omp -t 1 --seed 12345 --json 100001 | python3 -c 'import json,sys; print(json.load(sys.stdin)["hits"])'
78654
```

Not run:

<!-- docs.bats: not run: on purpose -->
```
$ pimc-omp --no-such-option
```
MD
    run -0 "${CHECK[@]}" samples "$BATS_TEST_TMPDIR/page.md"
    [[ $output == *"sample not run: on purpose"* ]]

    sed 's/^  threads /  workers /' "$BATS_TEST_TMPDIR/page.md" >"$BATS_TEST_TMPDIR/renamed.md"
    run -1 "${CHECK[@]}" samples "$BATS_TEST_TMPDIR/renamed.md"
    [[ $output == *"the output has another shape than the sample's"*"sample:    workers       1"* ]]

    sed 's/^78654$/78653/' "$BATS_TEST_TMPDIR/page.md" >"$BATS_TEST_TMPDIR/hits.md"
    run -1 "${CHECK[@]}" samples "$BATS_TEST_TMPDIR/hits.md"
    [[ $output == *"sample:  78653"*"program: 78654"* ]]

    sed 's/<!-- docs.bats: not run: on purpose -->//' "$BATS_TEST_TMPDIR/page.md" >"$BATS_TEST_TMPDIR/bad.md"
    run -1 "${CHECK[@]}" samples "$BATS_TEST_TMPDIR/bad.md"
    [[ $output == *"\$ pimc-omp --no-such-option: exit status 2: pimc-omp: unknown option '--no-such-option'"* ]]
}

@test "the checker: a link to a missing file or heading is named, with the headings there" {
    tree=$BATS_TEST_TMPDIR/tree
    mkdir -p "$tree/docs/sub"
    cp "$ROOT/docs/usage.md" "$tree/docs/"
    page=$tree/docs/sub/page.md
    # shellcheck disable=SC2016 # backquotes of Markdown, not of the shell
    printf '# Top\n\n## A `code` heading, with punctuation!\n\n[ok](#a-code-heading-with-punctuation) [ok](../usage.md#the-report)\n[bad](../usage.md#no-such) [bad](missing.md) `[not a link](nowhere.md)`\n' >"$page"
    DOCS_ROOT=$tree run "${CHECK[@]}" links "$page"
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 2 ]
    [[ ${lines[0]} == *"page.md:6: link '../usage.md#no-such': no heading with anchor #no-such in docs/usage.md (there: "*"the-report"* ]]
    [[ ${lines[1]} == *"page.md:6: link 'missing.md': no such file "* ]]
}
