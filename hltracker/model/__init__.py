"""The snapshot contract: frame schemas, the Snapshot type, cohorts and size buckets.

This package imports nothing else of hltracker; every other layer imports it.
"""

from hltracker.model.cohorts import (
    COHORTS,
    COHORTS_BY_ID,
    PNL_COHORT_IDS,
    PNL_COHORTS,
    SIZE_COHORT_IDS,
    SIZE_COHORTS,
    Cohort,
    pnl_cohort_expr,
    pnl_cohort_ids,
    pnl_cohort_of,
    size_cohort_expr,
    size_cohort_ids,
    size_cohort_of,
)
from hltracker.model.schemas import (
    ACCOUNTS_SCHEMA,
    FILLS_SCHEMA,
    FRAME_KEYS,
    FRAME_SCHEMAS,
    FUNDINGS_SCHEMA,
    MAIN_DEX,
    MARKETS_SCHEMA,
    NULLABLE,
    POSITIONS_SCHEMA,
    empty_frame,
)
from hltracker.model.size_buckets import (
    SIZE_BUCKET_IDS,
    SIZE_BUCKETS,
    SIZE_BUCKETS_BY_ID,
    SizeBucket,
    size_bucket_expr,
    size_bucket_ids,
    size_bucket_of,
)
from hltracker.model.snapshot import Snapshot, SnapshotError, conform, validate_snapshot

__all__ = [
    "ACCOUNTS_SCHEMA",
    "COHORTS",
    "COHORTS_BY_ID",
    "FILLS_SCHEMA",
    "FRAME_KEYS",
    "FRAME_SCHEMAS",
    "FUNDINGS_SCHEMA",
    "MAIN_DEX",
    "MARKETS_SCHEMA",
    "NULLABLE",
    "PNL_COHORTS",
    "PNL_COHORT_IDS",
    "POSITIONS_SCHEMA",
    "SIZE_BUCKETS",
    "SIZE_BUCKETS_BY_ID",
    "SIZE_BUCKET_IDS",
    "SIZE_COHORTS",
    "SIZE_COHORT_IDS",
    "Cohort",
    "SizeBucket",
    "Snapshot",
    "SnapshotError",
    "conform",
    "empty_frame",
    "pnl_cohort_expr",
    "pnl_cohort_ids",
    "pnl_cohort_of",
    "size_bucket_expr",
    "size_bucket_ids",
    "size_bucket_of",
    "size_cohort_expr",
    "size_cohort_ids",
    "size_cohort_of",
    "validate_snapshot",
]
