"""The Cold imports section: how long each handler module takes to import in a fresh interpreter."""

from bench.markdown import table
from bench.run import Results


def imports_section(results: Results) -> list[str]:
    doc = ["", "## Cold imports", ""]
    doc += [
        f"Each handler module imported in a fresh interpreter, {results.settings.cold_import_repeats} time(s), with",
        "lambdas/ on the path and the function's environment as deployed; only the import is timed. The",
        "heaviest packages are from one more `python -X importtime` run:",
        "the time each top-level package's own modules took to run (self time, so that nothing counts twice; the",
        "project's `common` includes building its pydantic models).",
        "",
    ]
    rows = [
        [
            f"`{i.module}`",
            f"{i.median_ms:.0f}",
            ", ".join(f"{v:.0f}" for v in i.samples_ms),
            f"{i.median_cpu_ms:.0f}",
            str(i.modules),
            ", ".join(f"{name} {ms:.0f}" for name, ms in i.heaviest),
        ]
        for i in [*results.imports, *([results.boto3_import] if results.boto3_import else [])]
    ]
    doc += table(
        ["handler", "median ms", "samples ms", "median CPU ms", "modules loaded", "heaviest packages (ms)"], rows
    )
    doc += [
        "",
        "`cold_import_ms_max` is the wall time. On this shared machine other processes take the CPU from the",
        "child at times, so the CPU time the child used is shown beside it: it does not depend on them. A",
        "512 MB function gets less than a vCPU, so the same import is likely slower on Lambda than here. The",
        "first invocation also creates the boto3 clients (not counted here).",
        "",
        "`cold_import_vs_boto3` is the slowest handler's median over the median of a bare `import boto3` (the",
        "last row), timed the same way in the same kind of fresh interpreter: what a handler costs beyond the SDK",
        "that any function calling AWS loads. Being a ratio of two times taken on the same machine at the same",
        "time, it depends less on how loaded the machine is than the milliseconds do.",
    ]
    return doc
