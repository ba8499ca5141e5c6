"""`clue`: argument parsing only; each command calls one function elsewhere.

User mistakes (ClueError) print one line and exit 2; Ctrl-C says how to resume.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Sequence

from cluebench import __version__
from cluebench.errors import ClueError, ConfigError


def _add_backend_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model backend")
    g.add_argument("--model", help="model spec: llamacpp:PATH.gguf | hf:NAME_OR_PATH | vllm:NAME_OR_PATH | openai:MODEL (default: the embedded SmolLM2-135M-Instruct)")
    g.add_argument("--base-url", dest="base_urls", action="append", default=[], help="OpenAI-compatible endpoint (repeat to spread requests over several)")
    g.add_argument("--api-key-env", help="name of the environment variable holding the API key (the key itself is never written anywhere)")
    g.add_argument("--concurrency", type=int, default=8, help="requests in flight per endpoint (openai:)")
    g.add_argument("--timeout", type=float, default=600.0, help="seconds per request before it is retried (openai:)")
    g.add_argument("--max-retries", type=int, default=5, help="retries per request on 429/5xx/timeouts/broken responses")
    g.add_argument("--tokenizer", help="local HF tokenizer for exact token counts with openai: models")
    g.add_argument("--max-model-len", type=int, help="context length (vllm:, openai:)")
    g.add_argument("--n-ctx", type=int, help="context length for llamacpp: (default: the model's, at most 8192)")
    g.add_argument("--n-threads", type=int, help="CPU threads for llamacpp:")
    g.add_argument("--n-gpu-layers", type=int, default=0, help="layers offloaded to the GPU (llamacpp:)")
    g.add_argument("--device", help="device for hf: (cpu, cuda, cuda:1)")
    g.add_argument("--dtype", help="dtype for hf:/vllm: (auto, bfloat16, float16, float32)")
    g.add_argument("--batch-size", type=int, default=8, help="generation batch size (hf:)")
    g.add_argument("--tensor-parallel-size", type=int, default=1, help="vllm: GPUs per model replica")
    g.add_argument("--pipeline-parallel-size", type=int, default=1, help="vllm: pipeline stages (across nodes with Ray)")
    g.add_argument("--distributed-executor-backend", choices=["mp", "ray"], help="vllm: ray for models that span nodes")
    g.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    g.add_argument("--no-prefix-caching", dest="enable_prefix_caching", action="store_false", help="vllm: disable prefix caching")
    g.add_argument("--trust-remote-code", action="store_true")
    g.add_argument("--chat-template", dest="chat_template_file", help="Jinja chat template file to use instead of the model's own (llamacpp:, hf:, vllm:, openai: with --tokenizer)")
    g.add_argument("--model-arg", dest="model_args", action="append", default=[], metavar="KEY=VALUE",
                   help="any option of the chosen backend (repeatable), e.g. n_ctx=4096, retry_after_max=60; "
                        "unknown keys are refused with the backend's list")


def _add_protocol_option(p: argparse.ArgumentParser) -> None:
    from cluebench.protocol import DEFAULT_PROTOCOL

    p.add_argument("--protocol", default=DEFAULT_PROTOCOL,
                   help="protocol: a packaged name (default clue_paper) or a path to a protocol .toml file")


def _backend_options(args: argparse.Namespace):
    """The backend flags (named after BackendOptions' fields) and --model-arg pairs, checked in
    one place (`cluebench.models.options`)."""
    from cluebench.models.options import build_options, options_from_namespace

    chat_template = None
    if getattr(args, "chat_template_file", None):
        path = Path(args.chat_template_file)
        try:
            chat_template = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--chat-template {path}: cannot read it as UTF-8 text ({exc})") from None
        if not chat_template.strip():
            raise ConfigError(f"--chat-template {path}: the file is empty; expected a Jinja chat template")
    flags = options_from_namespace(args) | {"chat_template": chat_template}
    return build_options(args.model, flags, getattr(args, "model_args", []))


def _data_dir(value: str | None) -> Path | None:
    """--data-dir, else $CLUE_DATA_DIR (read by `datasets.resolve_data_dir` only), else None."""
    from cluebench.datasets.dataset import DATA_DIR_ENV, resolve_data_dir

    path = resolve_data_dir(Path(value) if value else None)
    if path is None:
        return None
    if not path.is_dir():
        source = "--data-dir" if value else DATA_DIR_ENV
        raise ConfigError(f"{source} {path} is not a readable directory")
    return path


def _check_sampling(args: argparse.Namespace) -> None:
    if args.temperature is not None and not (math.isfinite(args.temperature) and args.temperature >= 0):
        raise ConfigError(f"--temperature must be a finite number >= 0, got {args.temperature}")
    if not (math.isfinite(args.top_p) and 0 < args.top_p <= 1):
        raise ConfigError(f"--top-p must be in (0, 1], got {args.top_p}")
    for flag, value in (("--longhealth-budget", args.longhealth_budget),
                        ("--longhealth-budget-23", args.longhealth_budget_23)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} must be at least 1, got {value}")


def cmd_run(args: argparse.Namespace) -> int:
    from cluebench.run.runner import RunSettings, run
    from cluebench.protocol import load_protocol
    from cluebench.terminal import print_run_summary

    _check_sampling(args)
    # Flags named after RunSettings' fields are copied by name; the rest are derived here.
    derived = dict(
        reasoning_known=_known_reasoning(args),
        notice=lambda line: print(line, file=sys.stderr),
        tasks=load_protocol(args.protocol).expand_task_selection(args.tasks),
        data_dir=_data_dir(args.data_dir),
        out=Path(args.out) if args.out else None,
        backend=_backend_options(args),
        write_report=not args.no_report,
    )
    named = {f.name: getattr(args, f.name) for f in dataclasses.fields(RunSettings)
             if f.name not in derived and hasattr(args, f.name)}
    settings = RunSettings(**named, **derived)
    outcome = run(settings)
    print_run_summary(outcome)
    return 0


def _known_reasoning(args: argparse.Namespace) -> str | None:
    """The lineage data's word that this model thinks before answering by default, or None;
    with --reasoning off, say that --reasoning on would let it think."""
    if not args.model:
        return None
    from cluebench.analysis.lineage import reasoning_info

    info = reasoning_info(args.model)
    if info is None or not info.thinks_by_default:
        return None
    evidence = f"lineage data: {info.model} thinks before answering ({info.kind})"
    if args.reasoning == "off":
        print(
            f"clue: note: {info.model} is a reasoning model; with --reasoning off (the paper's"
            " protocol) its thinking is switched off where the template allows, or cut by the"
            " answer caps; try --reasoning on",
            file=sys.stderr,
        )
    return evidence


def cmd_score(args: argparse.Namespace) -> int:
    from cluebench.run.score import score_predictions

    result = score_predictions(args.task, Path(args.predictions), _data_dir(args.data_dir), protocol=args.protocol)
    if args.json:
        print(json.dumps({"task": result["task"], "n": result["n"], "metrics": result["metrics"]}))
    else:
        from cluebench.terminal import print_score

        print_score(result)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from cluebench.analysis.compare import compare_runs
    from cluebench.terminal import format_comparison

    if Path(args.base).resolve() == Path(args.candidate).resolve():
        raise ConfigError(
            f"{args.base} and {args.candidate} are the same run directory: a run compared with "
            "itself shows only zeros; give two different runs"
        )
    result = compare_runs(
        Path(args.base), Path(args.candidate), seed=args.seed, allow_variant=args.allow_variant
    )
    print(json.dumps(result, indent=2) if args.json else format_comparison(result))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from cluebench.report.html import write_report

    runs = [Path(r) for r in args.runs]
    for r in runs:
        if not (r / "results.json").is_file():
            raise ConfigError(f"{r} is not a run directory (no results.json); give directories written by `clue run`")
    out = Path(args.out) if args.out else (runs[0] / "report.html" if len(runs) == 1 else Path("report.html"))
    path = write_report(runs, out, redact=args.redact, title=args.title)
    print(path)
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from cluebench import datasets

    if args.action == "check":
        data_dir = _data_dir(args.data_dir)
        if data_dir is None:
            raise ConfigError("clue data check needs --data-dir DIR (or CLUE_DATA_DIR)")
        results = datasets.check_data_dir(data_dir)
        from cluebench.protocol import load_protocol
        from cluebench.terminal import format_check_report

        paper_n = {t: spec.n_paper for t, spec in load_protocol().tasks.items()}
        print(format_check_report(results, paper_n))
        return 0 if all(r.status == "found" for r in results) else 1
    if args.action == "fetch":
        dest = datasets.resolve_data_dir(Path(args.data_dir) if args.data_dir else None) or Path("data")
        from cluebench.protocol import load_protocol

        results = datasets.fetch_public(dest, load_protocol().expand_task_selection(args.tasks) if args.tasks else None, force=args.force)
        from cluebench.terminal import format_fetch_report

        print(format_fetch_report(results))
        return 0
    if args.action == "demo":
        import shutil
        from importlib import resources

        dest = Path(args.data_dir or "clue-demo-data")
        src = Path(str(resources.files("cluebench.datasets") / "demo"))
        shutil.copytree(src, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py", "*.toml", "__pycache__"))
        print(f"wrote the synthetic demo set (all six tasks, upstream formats) to {dest}")
        return 0
    raise ConfigError(f"unknown data action {args.action}")


def cmd_generate(args: argparse.Namespace) -> int:
    from cluebench.cli_generate import run_generate

    return run_generate(args, _backend_options)


def cmd_models(args: argparse.Namespace) -> int:
    from cluebench.analysis.published import models_table

    print(models_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clue", description="CLUE clinical LLM benchmark")
    parser.add_argument("--version", action="version", version=f"cluebench {__version__}")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("run", help="evaluate a model (no arguments: the embedded model on the data available)")
    _add_backend_options(p)
    p.add_argument("--tasks", default="all", help="comma list of task ids, or all, level1, level2 (default: all)")
    p.add_argument("--limit", type=int, help="evaluate at most N items per task (LongHealth: N questions)")
    p.add_argument("--data-dir", help="folder with one subfolder per task (default: $CLUE_DATA_DIR, else the synthetic demo set)")
    p.add_argument("--out", help="run directory (default: runs/<model>; the same command resumes it)")
    p.add_argument("--temperature", type=float, help="default 0 (greedy)")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--seed", type=int, help="sampling seed (default from the protocol)")
    p.add_argument("--longhealth-budget", type=int, help="LongHealth sub-task 1 token budget (default 8140, the paper's)")
    p.add_argument("--longhealth-budget-23", type=int, help="LongHealth sub-tasks 2/3 token budget (default: the model's context length)")
    p.add_argument("--bertscore-model", help="BERTScore encoder: HF name or local dir (default: the offline MiniLM; the paper: allenai/scibert_scivocab_uncased)")
    p.add_argument("--bertscore-layers", type=int, help="encoder layer for BERTScore (paper: 8 for SciBERT)")
    p.add_argument("--entity-extractor", choices=["auto", "umls", "lexicon"], default="auto")
    p.add_argument("--allow-remote-credentialed-data", action="store_true", help="allow sending MIMIC-derived prompts to a non-local endpoint (only if your DUA covers it)")
    p.add_argument("--allow-model-change", action="store_true", help="resume a run directory although its model or servers changed (answers are reused only where the served model's fingerprint matches)")
    p.add_argument("--no-report", action="store_true", help="do not write report.html")
    p.add_argument("--full", action="store_true", help="run the synthetic demo set at full size and the paper's budgets (default on the demo set: demo sizes, minutes on a laptop; real data always runs at full size)")
    p.add_argument("--reasoning", choices=["off", "on", "auto"], default="off", help="off: the paper's protocol (thinking switched off where the template allows); on: let the model think and score what follows its reasoning (a protocol variant); auto: on when the chat template or server shows a reasoning model")
    p.add_argument("--reasoning-budget", type=int, help="thinking tokens allowed on top of each task's answer cap (default 4096)")
    _add_protocol_option(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("score", help="score predictions made elsewhere")
    p.add_argument("--task", required=True)
    p.add_argument("--predictions", required=True, help='JSONL of {"prediction", "reference"} or {"id", "prediction"}')
    p.add_argument("--data-dir")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_protocol_option(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("compare", help="paired comparison of two runs (candidate - base)")
    p.add_argument("base")
    p.add_argument("candidate")
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--allow-variant", action="store_true", help="pair runs of different protocol variants (e.g. one model with --reasoning on and off)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="one self-contained HTML report from run directories")
    p.add_argument("runs", nargs="+")
    p.add_argument("--out")
    p.add_argument("--title")
    p.add_argument("--redact", action="store_true", help="omit sample texts of credentialed tasks")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("data", help="fetch public sets, check a data directory, or write the demo set")
    p.add_argument("action", choices=["fetch", "check", "demo"])
    p.add_argument("--data-dir")
    p.add_argument("--tasks")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("generate", help="build MeDiSumCode / MeDiSumQA from MIMIC-IV")
    from cluebench.cli_generate import add_arguments

    add_arguments(p, _add_backend_options)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("models", help="the paper's biomedical models, their base models and their published scores")
    p.set_defaults(func=cmd_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["run"]
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *argv])
    try:
        return int(args.func(args) or 0)
    except ClueError as exc:
        print(f"clue: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # the environment, not the user: a full disk, a read-only folder
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"clue: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("clue: interrupted; run the same command again to resume (nothing answered is lost)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
