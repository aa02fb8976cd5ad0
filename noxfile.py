"""Sessions: tests, conformance (the main job and release gate), report, baseline,
model_zoo, bench, lint.

Each session builds its own virtualenv and installs what it needs, so a fresh clone works:
    pip install nox && nox -s conformance
    nox -s tests
"""
from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
ENV = {
    "MXNET_SUBGRAPH_VERBOSE": "0",  # MXNet logs every graph bind otherwise
    "PYTHONUNBUFFERED": "1",
    "PYTHONHASHSEED": "0",
}


def _install(session: nox.Session, extras: str = "test") -> None:
    session.install("-e", f".[{extras}]")


def _ctx_args(session: nox.Session) -> list[str]:
    """``nox -s conformance -- --ctx gpu`` runs the suites on a GPU context."""
    args = list(session.posargs)
    return ["--ctx", args[args.index("--ctx") + 1]] if "--ctx" in args else []


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit tests plus a fast sample of every conformance suite (the zoo registries need
    GluonCV and GluonNLP)."""
    _install(session, "test,zoo,coreml-oracle")
    session.run("pytest", "-q", "-n", "2", *session.posargs, env=ENV)


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """The main job: every conformance suite, results under reports/results/."""
    _install(session, "test,report,zoo,coreml-oracle")
    ctx = _ctx_args(session)
    session.run("python", "-m", "conformance.mxnet_ops", *ctx, env=ENV)
    # Core ML export: every converter alone, then the vision zoo subset, through the oracle
    # (CPU only: the oracle is onnxruntime on the CPU).
    session.run("python", "-m", "conformance.coreml_layers", env=ENV)
    session.run("python", "-m", "model_zoo_tests.coreml_vision", "--models", "ci", env=ENV)
    session.run("python", "-m", "conformance.coreml_import", env=ENV)
    session.run("python", "-m", "model_zoo_tests.vision", "--models", "ci", *ctx, env=ENV)
    # GluonCV / GluonNLP: the representative subset, after checking that the committed full
    # run (nox -s model_zoo) is not older than the converters it went through.
    session.run("python", "-m", "model_zoo_tests.zoo", "--models", "ci", "--check-fresh", *ctx,
                env=ENV)
    session.run("python", "-m", "conformance.onnx_node_suite", *ctx, env=ENV)
    session.run("python", "-m", "conformance.light_models", *ctx, env=ENV)
    # The report (history line, reports/*, README headline), then the gate against
    # reports/baseline.json; `-- --update-baseline` ratchets the baseline instead of gating.
    session.run("python", "-m", "conformance.report", "--record-run", *ctx, env=ENV)
    gate = ["--update-baseline"] if "--update-baseline" in session.posargs else []
    session.run("python", "-m", "conformance.report.gate", *gate, env=ENV)


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """Re-render reports/ and the README headline from the registries and results."""
    _install(session, "report")
    session.run("python", "-m", "conformance.report", *session.posargs, env=ENV)


@nox.session(python=PYTHON)
def baseline(session: nox.Session) -> None:
    """Accept the current results as the release-gate baseline (reports/baseline.json)."""
    _install(session, "report")
    session.run("python", "-m", "conformance.report.gate", "--update-baseline", env=ENV)


@nox.session(python=PYTHON)
def model_zoo(session: nox.Session) -> None:
    """Every zoo model (slow): the MXNet vision zoo, then every GluonCV and GluonNLP model, at
    opset 13 and the default opset. The GluonCV/NLP run resumes: models whose committed
    results are still fresh are skipped (``-- --force`` re-measures them)."""
    _install(session, "test,zoo,coreml-oracle")
    session.run("python", "-m", "model_zoo_tests.vision", "--models", "all",
                *_ctx_args(session), env=ENV)
    session.run("python", "-m", "model_zoo_tests.coreml_vision", "--models", "all", env=ENV)
    force = ["--force"] if "--force" in session.posargs else []
    session.run("python", "-m", "model_zoo_tests.zoo", "--models", "all", *force,
                *_ctx_args(session), env=ENV)


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """The long fuzz campaign (resumable; ``-- --cases N --seed S``): hostile and broken
    models against every entry point, results in reports/results/fuzz-cpu.jsonl and the
    summary table in reports/fuzz.md."""
    _install(session, "test,coreml-oracle")
    args = list(session.posargs) or ["--cases", "10000"]
    session.run("python", "-m", "conformance.fuzz.campaign", *args, env=ENV)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed and memory benchmarks (pytest-benchmark)."""
    _install(session, "test")
    session.run("pytest", "benchmarks", "--benchmark-only", "-p", "no:xdist",
                "--benchmark-columns=min,mean,max,rounds", *session.posargs, env=ENV)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "serde", "conformance", "model_zoo_tests", "tests",
                "benchmarks", "noxfile.py")
