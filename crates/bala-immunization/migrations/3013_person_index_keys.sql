-- A child's doses are read by person, in date order (the card, the facts'
-- re-derivation, FHIR matching); the other columns of the person index are
-- there to be read without visiting the table, never to be searched or
-- sorted by. On PostgreSQL they become INCLUDE columns: building the index
-- for a register's first load no longer compares `status` and the dates
-- through the locale's collation for every pair of a child's doses (1.9 s
-- against 1.3 s for 1.15 M doses; docs/benchmarks.md), and every later
-- insert compares less. `status = 'recorded'` is checked on the index entry
-- itself. SQLite has no INCLUDE and keeps its index (3004).
-- postgres:begin
DROP INDEX imm_doses_person;
CREATE INDEX imm_doses_person ON imm_doses (person_id, given_on, id) INCLUDE (status, product, lot_expiry, flags);
-- postgres:end
