"""Datasets: readers of the exact upstream file formats, a data-directory check, fetching of the
public sets with checksums, and a bundled synthetic demo set. Imports nothing of cluebench but
`cluebench.errors` and `cluebench.protocol` (where each task's data file lives)."""

from __future__ import annotations

from cluebench.datasets.check import CheckResult, check_data_dir
from cluebench.datasets.dataset import (
    DATA_DIR_ENV,
    DATA_FILES,
    TASKS,
    DEMO_DIR,
    Dataset,
    data_source_description,
    demo_path,
    demo_settings,
    read_dataset,
    resolve_data_dir,
    resolve_dataset,
)
from cluebench.datasets.fetch import (
    CHECKSUMS_NAME,
    PUBLIC_SOURCES,
    FetchResult,
    PublicSource,
    credentialed_instructions,
    fetch_public,
)

__all__ = [
    "CHECKSUMS_NAME",
    "DATA_DIR_ENV",
    "DATA_FILES",
    "DEMO_DIR",
    "PUBLIC_SOURCES",
    "TASKS",
    "CheckResult",
    "Dataset",
    "FetchResult",
    "PublicSource",
    "check_data_dir",
    "credentialed_instructions",
    "data_source_description",
    "demo_path",
    "demo_settings",
    "fetch_public",
    "read_dataset",
    "resolve_data_dir",
    "resolve_dataset",
]
