-- When a child can first be due for anything (ADR 0020). A due list used to
-- read every child of the district with all their doses and run the engine
-- over each, although most children have nothing due on the list's date.
-- One row per child with doses, written with the valid-dose facts by the same
-- derivation: the earliest recommended date of any series' next dose, a
-- lower bound whatever is later recorded about contraindications and refusals
-- (a property test holds the engine to it). A list reads only the children
-- whose bound falls by its horizon, and every child the row cannot speak for:
-- no row, a row derived in another area, from another birth date, sex or
-- calendar, or from doses the list's date does not yet count (`last_dose_on`
-- after it). `first_due` NULL: every series that applies is complete.
-- Rows are keyed by area first, so a district's rows lie together: a list
-- joins them to its children without a random seek per child (every commit
-- makes SQLite readers drop their cache and mapping, so seeks are faults).
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
    PRIMARY KEY (area_code, person_id)
);
-- postgres:end
-- A child's rows are replaced by person when their doses change.
CREATE INDEX imm_first_due_person ON imm_first_due (person_id);
