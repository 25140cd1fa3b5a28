"""The charter bases shipped as data: well-formed, each entry citing its statute, installed with the
package, and a broken file refused at its own line."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pytest

from xinyong.model.catalogue import Severity
from xinyong.model.errors import PolicyError
from xinyong.policy import charter_bases as cb
from xinyong.policy.charter_bases import charter_bases

BASES = charter_bases()


def test_the_data_files_are_package_resources() -> None:
    names = {p.name for p in resources.files("xinyong.charter").iterdir()}
    assert {"record_domains.yaml", "source_kinds.yaml", "measure_kinds.yaml", "duration_caps.yaml"} <= names


def test_every_entry_cites_a_statute_and_the_sets_are_closed() -> None:
    assert set(BASES.source_kinds) == {"court", "administrative_organ", "authorised_body"}
    assert all(d.legal_basis and set(d.authorities) <= set(BASES.source_kinds) for d in BASES.domains.values())
    assert all(m.legal_basis and m.actions for m in BASES.measure_kinds.values())
    assert {"petitions", "religion", "civic_conduct"}.isdisjoint(BASES.domains)


def test_no_measure_kind_governs_an_action_on_someone_else() -> None:
    from xinyong.policy.lint_words import other_subject

    actions = [a for m in BASES.measure_kinds.values() for a in m.actions]
    assert [a for a in actions if other_subject(a)] == []


def test_caps_grow_with_severity_and_stay_under_the_ceiling() -> None:
    caps = [BASES.cap(s) for s in (Severity.MINOR, Severity.GENERAL, Severity.SERIOUS)]
    for field in ("listing_days", "validity_days", "publication_days"):
        values = [getattr(c, field) for c in caps]
        assert values == sorted(values) and values[-1] <= BASES.caps.ceiling_days


@pytest.mark.parametrize(
    ("kind", "statute", "fits"),
    [
        ("authorised_body", "Blood Donation Law of the PRC, art. 8", True),
        ("authorised_body", "献血法 第八条", True),
        ("authorised_body", "某市行业自律管理办法", False),  # departmental measures cannot authorise a body
        ("authorised_body", "Municipal notice on civilised conduct", False),
        ("court", "人民法院", False),
        ("court", "Company Directors Disqualification Act 1986", True),
        ("administrative_organ", "醫療保障基金使用監督管理條例", True),  # traditional characters
        ("administrative_organ", "Internal work plan", False),
    ],
)
def test_a_statute_must_be_an_instrument_that_can_empower_the_kind(kind: str, statute: str, fits: bool) -> None:
    assert BASES.statute_fits(kind, statute) is fits


@pytest.mark.parametrize("with_digest", [False, True])
def test_a_broken_base_is_refused_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              with_digest: bool) -> None:
    """Also with the shipped digest next to it: a digest of other files is never used."""
    shipped = Path(str(resources.files("xinyong.charter")))
    for f in shipped.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    if with_digest:
        shutil.copy(shipped / cb.DIGEST, tmp_path / cb.DIGEST)
    text = (tmp_path / "record_domains.yaml").read_text(encoding="utf-8")
    (tmp_path / "record_domains.yaml").write_text(text.replace("authorities: [court]", "authorities: [informant]", 1),
                                                  encoding="utf-8")
    monkeypatch.setattr(cb, "_charter_dir", lambda: tmp_path)
    with pytest.raises(PolicyError) as err:
        cb.charter_bases.__wrapped__()
    [problem] = err.value.problems
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "authorities: [court]" in x)
    assert (Path(problem.file).name, problem.line, problem.code) == ("record_domains.yaml", line, "XS101")
    assert "'informant'" in problem.message


def test_the_shipped_digest_is_current_and_holds_what_validation_gives() -> None:
    """``python -m xinyong.policy.charter_bases`` rewrites the digest after a base is edited."""
    raw = cb._read()
    digest = json.loads((Path(str(resources.files("xinyong.charter"))) / cb.DIGEST).read_text(encoding="utf-8"))
    assert digest == cb.digest(cb.validated(raw), raw), "stale: run python -m xinyong.policy.charter_bases"
    assert cb._from_digest(digest) == cb.validated(raw) == BASES


def test_without_a_digest_the_files_are_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = Path(str(resources.files("xinyong.charter")))
    for f in shipped.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / cb.DIGEST).write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(cb, "_charter_dir", lambda: tmp_path)
    assert cb.charter_bases.__wrapped__() == BASES


def test_the_digest_is_rewritten_from_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = Path(str(resources.files("xinyong.charter")))
    for f in shipped.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    monkeypatch.setattr(cb, "_charter_dir", lambda: tmp_path)
    written = cb.write_digest()
    assert written.read_bytes() == (shipped / cb.DIGEST).read_bytes()


def test_a_missing_base_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cb, "_charter_dir", lambda: tmp_path)
    with pytest.raises(PolicyError) as err:
        cb.charter_bases.__wrapped__()
    assert [(Path(p.file).name, p.code) for p in err.value.problems] == [("record_domains.yaml", "XS001")]
