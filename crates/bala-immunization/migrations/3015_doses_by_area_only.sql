-- A dose's area is always its child's (migration 3005), so the area index
-- `(area_code, person_id, …)` finds a child's doses as well as the person
-- index did, given the child's area: one more primary-key probe of `people`.
-- The person index repeated the area index but for its first column, and
-- every dose paid for it: on SQLite one more B-tree per inserted row
-- (0.35–0.9 s of a register's 1.1 M-dose load, a sixth of the pages written
-- to the log and checkpointed), on PostgreSQL 0.6 s of rebuilding after an
-- initial load (ADR 0030). Readers by person now name the area: the card,
-- a child's facts, FHIR's duplicate check, a merge (bala_registry's
-- `PersonRef::area`), the facts' rebuilds (by area), and the trigger below.
--
-- Without an index led by `person_id`, deleting a person would scan the
-- doses for its foreign key; people are never deleted (a merge marks the
-- duplicate).
DROP INDEX imm_doses_person;

-- sqlite:begin
DROP TRIGGER imm_doses_follow_child;
CREATE TRIGGER imm_doses_follow_child AFTER UPDATE OF area_code ON people
WHEN OLD.area_code <> NEW.area_code
BEGIN
    UPDATE imm_doses SET area_code = NEW.area_code
    WHERE area_code = OLD.area_code AND person_id = NEW.id;
END;
-- sqlite:end
-- postgres:begin
CREATE OR REPLACE FUNCTION imm_doses_follow_child() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE imm_doses SET area_code = NEW.area_code
    WHERE area_code = OLD.area_code AND person_id = NEW.id;
    RETURN NULL;
END; $$;
-- postgres:end
