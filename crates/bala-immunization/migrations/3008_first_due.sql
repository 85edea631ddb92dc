-- When a child can first be due for anything (ADR 0020). A due list used to
-- read every child of the district with all their doses and run the engine
-- over each, although most children have nothing due on the list's date.
-- One row per child with doses, written with the valid-dose facts by the same
-- derivation: the earliest recommended date of any series' next dose, a
-- lower bound whatever is later recorded about contraindications and refusals
-- (a property test holds the engine to it). A list reads only the children
-- whose bound falls by its horizon, and every child the row cannot speak for:
-- no row in the list's areas, a row derived from another birth date, sex or
-- calendar, or from doses the list's date does not yet count (`last_dose_on`
-- after it). `first_due` NULL: every series that applies is complete.
-- Rows are keyed by area first, so a list reads a district's rows as one
-- range instead of a random seek per child (every commit makes SQLite
-- readers drop their cache and mapping, so seeks are page faults).
-- Records stored before this migration get their rows from
-- `bala immunization refresh` or their next change; until then lists read
-- them as before.
-- sqlite:begin
CREATE TABLE imm_first_due (
    area_code TEXT NOT NULL,
    person_id BIGINT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    calendar_id TEXT NOT NULL,
    last_dose_on TEXT NOT NULL,
    first_due TEXT,
    PRIMARY KEY (area_code, person_id)
) WITHOUT ROWID;
-- sqlite:end
-- postgres:begin
CREATE TABLE imm_first_due (
    area_code TEXT NOT NULL,
    person_id BIGINT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    calendar_id TEXT NOT NULL,
    last_dose_on TEXT NOT NULL,
    first_due TEXT,
    -- Lists read a district's rows from the key alone (an index-only scan)
    -- rather than from heap pages scattered in the order rows were written.
    PRIMARY KEY (area_code, person_id) INCLUDE (birth_date, sex, calendar_id, last_dose_on, first_due)
);
-- postgres:end
-- A child's rows are replaced by person when their doses change.
CREATE INDEX imm_first_due_person ON imm_first_due (person_id);
