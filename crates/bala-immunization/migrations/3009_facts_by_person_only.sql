-- The valid-dose facts are written, deleted and re-derived by child, and
-- their one other reader — the children judged at their first birthday for
-- the zero-dose and under-immunized counts — starts from the cohort's people
-- and looks each child's DTP1 and DTP3 up by the primary key
-- (person_id, label). The index by label first was used by no plan worth
-- keeping (on SQLite the query was no faster with it: 1.1–1.3 s without,
-- 1.4–2.1 s with, for a 100 000-child cohort), yet every imported fact paid
-- for an insert at one of a dozen scattered positions in it: about a third
-- of the time of writing a register's facts (docs/benchmarks.md, 2026-12-06).
DROP INDEX imm_valid_doses_label;
