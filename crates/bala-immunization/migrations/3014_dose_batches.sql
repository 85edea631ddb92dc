-- Who loaded a dose, when and from what (`source`, `created_at`,
-- `created_by`) is the same for every dose of a bulk import: about 55 of the
-- 152 bytes of each imported row on SQLite, repeated a million times per
-- register's history, and written again to the write-ahead log and by its
-- checkpoint (docs/benchmarks.md, 2026-12-07). An import now writes its
-- provenance once, as a batch, and its doses point to it; their own three
-- columns are left empty ('' costs no bytes in an SQLite record, and the
-- columns stay NOT NULL for every other writer). A dose's provenance is its
-- batch's when it has one, else its own (card::dose_rows reads it so).
-- Doses recorded one by one (a nurse, the API, FHIR) keep theirs in the row.
CREATE TABLE imm_dose_batches (
    id {{ID}},
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
ALTER TABLE imm_doses ADD COLUMN batch_id BIGINT REFERENCES imm_dose_batches (id);
