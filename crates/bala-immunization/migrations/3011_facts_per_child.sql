-- One row of valid-dose facts per child instead of one per valid dose
-- (ADR 0023). The facts are only ever read, deleted and re-derived a whole
-- child at a time (3009), and coverage reads the counters, never the facts;
-- yet a child's twenty-odd facts were twenty-odd rows, each repeating the
-- child's id, area and birth: 2.08 M rows and 122 MB for a 100 000-birth
-- register, more rows than the doses themselves, and about a third of the
-- time of writing a register's history. Now a child's valid doses are one
-- text column (`date flags label;…`, see `facts::pack`) beside the area and
-- birth they were counted with.
-- sqlite:begin
-- An INTEGER PRIMARY KEY is SQLite's rowid: one B-tree, keyed by the person.
CREATE TABLE imm_facts (
    person_id INTEGER PRIMARY KEY,
    area_code TEXT NOT NULL,
    birth_year BIGINT NOT NULL,
    birth_date TEXT NOT NULL,
    valid TEXT NOT NULL
);
INSERT INTO imm_facts (person_id, area_code, birth_year, birth_date, valid)
SELECT person_id, MIN(area_code), MIN(birth_year), MIN(birth_date), group_concat(entry, ';')
FROM (
    SELECT person_id, area_code, birth_year, birth_date,
        given_on || ' ' || CAST(by_12m AS TEXT) || CAST(by_24m AS TEXT) || CAST(timely AS TEXT) || ' '
            || REPLACE(REPLACE(label, '\', '\\'), ';', '\;') AS entry
    FROM imm_valid_doses ORDER BY person_id, label
)
GROUP BY person_id;
-- sqlite:end
-- postgres:begin
CREATE TABLE imm_facts (
    person_id BIGINT PRIMARY KEY,
    area_code TEXT NOT NULL,
    birth_year BIGINT NOT NULL,
    birth_date TEXT NOT NULL,
    valid TEXT NOT NULL
);
INSERT INTO imm_facts (person_id, area_code, birth_year, birth_date, valid)
SELECT person_id, MIN(area_code), MIN(birth_year), MIN(birth_date),
    string_agg(given_on || ' ' || CAST(by_12m AS TEXT) || CAST(by_24m AS TEXT) || CAST(timely AS TEXT) || ' '
        || REPLACE(REPLACE(label, '\', '\\'), ';', '\;'), ';' ORDER BY label)
FROM imm_valid_doses
GROUP BY person_id;
-- postgres:end
DROP TABLE imm_valid_doses;
