"""Backend options from the command line, checked in one place.

Each backend declares the options it reads (`Backend.option_names`, fields of
:class:`~cluebench.models.base.BackendOptions`). The CLI's flags are named after those fields, so
they are copied by name, not by hand; ``--model-arg KEY=VALUE`` (as lm-eval's ``--model_args`` and
inspect's ``-M``) sets any option the chosen backend reads, its value typed from the field. One
function, :func:`build_options`, turns both into a validated :class:`BackendOptions`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from cluebench.errors import ConfigError
from cluebench.models.base import BackendOptions

_FIELDS = {f.name: f for f in dataclasses.fields(BackendOptions)}
_HINTS = typing.get_type_hints(BackendOptions)
# Set by the runner (from the protocol, the reasoning policy) or from a file, never as a value.
_INTERNAL = {"plain_template", "chat_template", "chat_template_kwargs"}


def backend_option_names(spec: str | None) -> tuple[str, ...]:
    """The options the backend of `spec` reads."""
    from cluebench.models import parse_spec
    from cluebench.models.base import _factory

    prefix, _ = parse_spec(spec)
    factory = _factory(prefix)
    return tuple(getattr(factory, "option_names", ()))


def _typed(key: str, text: str) -> Any:
    """`text` as the type of BackendOptions.`key` (lists are comma-separated; none for optional)."""
    hint = _HINTS[key]
    optional = type(None) in typing.get_args(hint)
    base = next((a for a in typing.get_args(hint) if a is not type(None)), hint) if optional else hint
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    if typing.get_origin(base) is list:
        return [part.strip() for part in text.split(",") if part.strip()]
    lowered = text.strip().lower()
    if base is bool:
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"--model-arg {key}={text}: expected true or false")
        return lowered in ("true", "1", "yes")
    try:
        if base is int:
            return int(text)
        if base is float:
            return float(text)
    except ValueError:
        kind = "a whole number" if base is int else "a number"
        raise ConfigError(f"--model-arg {key}={text}: expected {kind}") from None
    return text


def parse_model_args(pairs: Iterable[str], spec: str | None) -> dict[str, Any]:
    """``KEY=VALUE`` strings -> typed options; a key the backend does not read is an error."""
    allowed = backend_option_names(spec)
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"--model-arg {pair!r}: expected KEY=VALUE")
        if key not in allowed:
            known = ", ".join(allowed) or "none"
            raise ConfigError(f"--model-arg {key}: not an option of this backend (it reads: {known})")
        out[key] = _typed(key, value)
    return out


def options_from_namespace(values: Any) -> dict[str, Any]:
    """The BackendOptions fields an argparse namespace holds (flags share the fields' names)."""
    return {name: getattr(values, name) for name in _FIELDS if name not in _INTERNAL and hasattr(values, name)}


def build_options(spec: str | None, flags: Mapping[str, Any], model_args: Iterable[str] = ()) -> BackendOptions:
    """Flag values plus ``--model-arg`` pairs (which win) -> checked BackendOptions for `spec`."""
    values = dict(flags)
    values.update(parse_model_args(model_args, spec))
    options = BackendOptions(**values)
    check_options(spec, options)
    return options


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_options(spec: str | None, options: BackendOptions) -> None:
    """The rules that hold whatever set the option (flag, --model-arg or code)."""
    if options.concurrency < 1:
        raise ConfigError(f"--concurrency must be at least 1, got {options.concurrency}")
    if options.max_retries < 0:
        raise ConfigError(f"--max-retries must be 0 or more, got {options.max_retries}")
    # NaN compares false with everything: "timeout <= 0" would let it through and disable the
    # bound on every wait; inf overflows the event loop's clock. Both are refused here.
    if not _finite(options.timeout) or options.timeout <= 0:
        raise ConfigError(f"--timeout must be positive seconds (a finite number), got {options.timeout}")
    if not (_finite(options.gpu_memory_utilization) and 0 < options.gpu_memory_utilization <= 1):
        raise ConfigError(
            f"--gpu-memory-utilization must be in (0, 1], got {options.gpu_memory_utilization}"
        )
    for flag, value in (("--n-ctx", options.n_ctx), ("--max-model-len", options.max_model_len),
                        ("--batch-size", options.batch_size)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} must be at least 1, got {value}")
    model = spec or ""
    if options.base_urls and not model.startswith("openai:"):
        raise ConfigError("--base-url only applies to openai:MODEL specs; give --model openai:NAME")
    if model.startswith("openai:") and not options.base_urls:
        raise ConfigError("openai: models need at least one --base-url (e.g. http://127.0.0.1:8000/v1)")
    if options.api_key_env and options.api_key_env not in os.environ:
        raise ConfigError(f"--api-key-env names ${options.api_key_env}, which is not set in the environment")
