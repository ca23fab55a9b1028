#!/usr/bin/env bats
# The package recipes in packaging/ (Spack and EasyBuild, neither installable here): each is valid
# Python, carries meson.build's version, passes only meson options that meson_options.txt has, and
# runs pimc-omp --self-test as its check. What a recipe needs from the project is read from the
# recipe with Python's ast, not grepped, so that a comment cannot satisfy a check.

bats_require_minimum_version 1.5.0

setup() {
    ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
    SPACK=$ROOT/packaging/spack/pimc-omp/package.py
    # The project's version, as meson reads it: project('pimc-omp', 'c', version: '...').
    VERSION=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" "$ROOT/meson.build" | head -n 1)
    [ -n "$VERSION" ]
    EASYCONFIG=$ROOT/packaging/easybuild/pimc-omp-$VERSION-GCC-12.3.0.eb
    export PYTHONPYCACHEPREFIX=$BATS_TEST_TMPDIR/pycache # no __pycache__ in the source tree
}

# meson_options_of FILE... -> the -DNAME options the text of the files passes, one per line
meson_options_of() {
    grep -oh -- '-D[a-z_]*=' "$@" | sed 's/^-D//; s/=$//' | sort -u
}

@test "both recipes are valid Python (python3 -m py_compile)" {
    run -0 python3 -m py_compile "$SPACK"
    [ -f "$EASYCONFIG" ] || { echo "no easyconfig for version $VERSION: $(ls "$ROOT/packaging/easybuild")"; false; }
    run -0 python3 -m py_compile "$EASYCONFIG"
}

@test "Spack: MesonPackage of meson.build's version; jansson, libcsv, hwloc, libxml2, mpi when +mpi; a --self-test test" {
    run -0 python3 - "$SPACK" "$VERSION" <<'PY'
import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
assert [b.id for b in cls.bases] == ["MesonPackage"], "not a MesonPackage"
calls = [n for n in ast.walk(cls) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
def args(name):
    return [(c.args[0].value if c.args else None, {k.arg: ast.literal_eval(k.value) for k in c.keywords})
            for c in calls if c.func.id == name]
versions = [v for v, _ in args("version")]
assert versions == [sys.argv[2]], f"versions {versions}, meson.build says {sys.argv[2]}"
deps = {spec.split("@")[0]: kw for spec, kw in args("depends_on")}
for need in ("jansson", "libcsv", "hwloc", "libxml2", "mpi"):
    assert need in deps, f"no depends_on({need!r})"
assert deps["mpi"].get("when") == "+mpi", "mpi is not a dependency when +mpi"
assert any(v == "mpi" for v, _ in args("variant")), "no variant mpi"
tests = {f.name: ast.unparse(f) for f in cls.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test")}
assert any("'--self-test'" in body for body in tests.values()), f"no test runs --self-test: {sorted(tests)}"
PY
}

@test "EasyBuild: MesonNinja, GCC toolchain, meson.build's version, sanity_check_commands run --self-test" {
    run -0 python3 - "$EASYCONFIG" "$VERSION" <<'PY'
import ast, sys
values = {}
for node in ast.parse(open(sys.argv[1]).read()).body:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        try:
            values[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            pass  # EasyBuild's templates and constants (SOURCE_TAR_GZ)
assert values["easyblock"] == "MesonNinja", values["easyblock"]
assert values["name"] == "pimc-omp"
assert values["version"] == sys.argv[2], f"version {values['version']}, meson.build says {sys.argv[2]}"
assert values["toolchain"]["name"] == "GCC", values["toolchain"]
assert "pimc-omp --self-test" in values["sanity_check_commands"], values["sanity_check_commands"]
assert "bin/pimc-omp" in values["sanity_check_paths"]["files"]
deps = [d[0] for d in values["dependencies"]]
for need in ("jansson", "libcsv", "hwloc", "libxml2"):
    assert need in deps, f"no dependency {need}: {deps}"
# EasyBuild names an easyconfig NAME-VERSION-TOOLCHAIN-TOOLCHAINVERSION.eb.
tc = values["toolchain"]
want = f"{values['name']}-{values['version']}-{tc['name']}-{tc['version']}.eb"
assert sys.argv[1].endswith("/" + want), f"file name should be {want}"
PY
}

@test "every -D option a recipe passes is in meson_options.txt" {
    known=$(sed -n "s/^option('\([a-z_]*\)'.*/\1/p" "$ROOT/meson_options.txt" | sort -u)
    passed=$(meson_options_of "$SPACK" "$EASYCONFIG")
    [ -n "$passed" ]
    missing=$(comm -23 <(echo "$passed") <(echo "$known"))
    [ -z "$missing" ] || { echo "not meson options: $missing"; false; }
}
