"""Backend options: flags named after BackendOptions' fields, `--model-arg KEY=VALUE` for any
option the chosen backend reads, both checked in one place (`cluebench.models.options`)."""

from __future__ import annotations

import argparse

import pytest

from cluebench.cli import build_parser
from cluebench.errors import ConfigError
from cluebench.models.base import BackendOptions
from cluebench.models.options import backend_option_names, build_options, options_from_namespace


def flags(*argv: str) -> tuple[str | None, dict, list[str]]:
    args = build_parser().parse_args(["run", *argv])
    return args.model, options_from_namespace(args), args.model_args


def test_every_flag_reaches_its_field_without_a_hand_copy() -> None:
    model, values, extra = flags("--model", "openai:m", "--base-url", "http://127.0.0.1:1/v1", "--base-url",
                                 "http://127.0.0.1:2/v1", "--concurrency", "3", "--no-prefix-caching")
    options = build_options(model, values, extra)
    assert options.base_urls == ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"]
    assert options.concurrency == 3 and options.enable_prefix_caching is False
    assert options.timeout == BackendOptions().timeout  # defaults unchanged


def test_model_args_are_typed_from_the_field_and_win_over_flags() -> None:
    model, values, extra = flags("--n-ctx", "2048", "--model-arg", "n_ctx=4096", "--model-arg", "n-threads=3",
                                 "--model-arg", "n_gpu_layers=0")
    options = build_options(model, values, extra)
    assert (options.n_ctx, options.n_threads, options.n_gpu_layers) == (4096, 3, 0)
    model, values, extra = flags("--model", "openai:m", "--base-url", "http://127.0.0.1:1/v1",
                                 "--model-arg", "retry_after_max=60", "--model-arg", "trust_remote_code=yes",
                                 "--model-arg", "tokenizer=none")
    options = build_options(model, values, extra)
    assert options.retry_after_max == 60.0 and options.trust_remote_code is True and options.tokenizer is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model-arg", "dtype=float16"], r"dtype: not an option of this backend \(it reads: n_ctx, n_threads, n_gpu_layers, keep_special_tokens\)"),
        (["--model-arg", "n_ctx=big"], r"n_ctx=big: expected a whole number"),
        (["--model-arg", "n_ctx"], r"expected KEY=VALUE"),
        (["--model", "openai:m", "--base-url", "http://127.0.0.1:1/v1", "--model-arg", "concurrency=0"], r"at least 1, got 0"),
        (["--model", "openai:m", "--base-url", "http://127.0.0.1:1/v1", "--model-arg", "trust_remote_code=maybe"], r"expected true or false"),
        (["--model", "openai:m"], r"at least one --base-url"),
        (["--base-url", "http://127.0.0.1:1/v1"], r"only applies to openai"),
        (["--timeout", "0"], r"--timeout must be positive"),
    ],
)
def test_bad_options_are_one_clear_error(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_options(*flags(*argv))


def test_each_backend_declares_real_fields() -> None:
    fields = set(BackendOptions.__dataclass_fields__)
    for spec in (None, "llamacpp:x.gguf", "hf:x", "vllm:x", "openai:x"):
        names = backend_option_names(spec)
        assert names and set(names) <= fields, spec
    assert "n_ctx" in backend_option_names(None) and "base_urls" in backend_option_names("openai:x")
    assert isinstance(build_parser(), argparse.ArgumentParser)
