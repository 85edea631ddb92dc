-- A due list reads the caregivers of its children: their relationships by
-- child, with the kind (mother, father, …), then the caregivers' rows. The
-- primary key gives the related person but not the kind, so every child cost
-- a visit to the table as well as to the index: three scattered pages per
-- child instead of two. With the kind in an index the relationships are read
-- from the index alone. A district's overdue list on a 400 000-birth SQLite
-- register, alternating with and without this index (2026-12-07, criterion):
-- 48.3, 43.8, 52.6 ms against 59.7, 48.2, 53.3 ms (docs/benchmarks.md).
CREATE INDEX relationships_person_kind ON relationships (person_id, related_id, kind);
