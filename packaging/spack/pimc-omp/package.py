# Spack recipe for pimc-omp: copy this directory into a Spack package repository
# (e.g. `spack repo create site-repo; cp -r packaging/spack/pimc-omp site-repo/packages/`), then
#   spack install pimc-omp                 # OpenMP only
#   spack install pimc-omp +mpi ^openmpi   # MPI + OpenMP, with Open MPI (or ^mpich, or the site's MPI)
#   spack test run pimc-omp                # pimc-omp --self-test on this node
#
# Not tested with Spack: Spack cannot be installed on the machines this project is built and tested
# on. tests/packaging.bats only checks that this file is valid Python (py_compile), that its version
# is meson.build's, and that the meson options it passes exist; the recipe follows Spack's packaging
# guide (MesonPackage, meson_args, stand-alone tests as test_* methods). The dependency names are
# those of Spack's builtin repository as far as known here (scdoc, libcsv: check yours).
#
# Choosing the MPI: Spack says it with the provider of the virtual package mpi, `+mpi ^openmpi` or
# `+mpi ^mpich`, rather than a second variant that could contradict it; meson_args passes the choice
# on as -Dmpi_library (openmpi, mpich; any other provider, e.g. a vendor's MPICH derivative, is
# found by meson's dependency('mpi'): -Dmpi_library=auto).

from spack.package import *


class PimcOmp(MesonPackage):
    """Monte Carlo pi on all cores (OpenMP, optionally MPI across nodes), as a benchmark you can
    trust: every run verifies its estimate, and the hits of a seed are the same on any number of
    threads, ranks or SIMD paths. Installs the binary, its man page, Slurm job scripts
    (share/pimc-omp/slurm), the scaling table and figure tools (pimc-omp-table, pimc-omp-plot)."""

    # No public home yet: point these at the repository you build from.
    homepage = "https://example.org/pimc-omp"
    git = "https://example.org/pimc-omp.git"

    license("MIT")

    version("0.1.0", tag="v0.1.0")

    variant("mpi", default=False, description="Hybrid MPI + OpenMP across nodes (srun, mpirun)")

    depends_on("c", type="build")  # C17 with OpenMP >= 4.5: gcc >= 12 or clang >= 14 (+ libomp)
    depends_on("meson@1.0:", type="build")
    depends_on("ninja", type="build")
    depends_on("pkgconfig", type="build")
    depends_on("scdoc", type="build")  # the man page, from doc/pimc-omp.1.scd

    depends_on("jansson@2.10:")  # JSON results and baselines
    depends_on("libcsv")  # CSV results and baselines
    depends_on("hwloc")  # the node's topology in the report
    depends_on("libxml2")  # JUnit reports of --check
    depends_on("mpi", when="+mpi")
    depends_on("python@3:", type="run")  # pimc-omp-table and pimc-omp-plot (gnuplot: optional)

    # OpenMP comes with the compiler, and Apple's clang has none.
    conflicts("%apple-clang", msg="pimc-omp needs OpenMP, which Apple clang lacks")

    def meson_args(self):
        # The man page is asked for: a package never lacks it silently (scdoc is a build dependency).
        args = ["-Dman_page=enabled"]
        if self.spec.satisfies("+mpi"):
            provider = self.spec["mpi"].name
            library = provider if provider in ("openmpi", "mpich") else "auto"
            args += ["-Dmpi=enabled", f"-Dmpi_library={library}"]
        else:
            args.append("-Dmpi=disabled")
        return args

    def setup_run_environment(self, env):
        # The installed job scripts find this prefix's binary also when copied elsewhere.
        env.set("PIMC_OMP_ROOT", self.prefix)

    def test_self_test(self):
        """pimc-omp --self-test: published known answers and every kernel path this CPU runs"""
        pimc = which(self.prefix.bin.join("pimc-omp"))
        out = pimc("--self-test", output=str.split, error=str.split)
        assert "self-test: PASS" in out, "pimc-omp --self-test did not pass:\n" + out

    def test_version(self):
        """pimc-omp --version names this version's build and its kernel paths"""
        pimc = which(self.prefix.bin.join("pimc-omp"))
        out = pimc("--version", output=str.split, error=str.split)
        assert out.startswith("pimc-omp ") and "kernels:" in out, out
