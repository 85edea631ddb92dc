-- Kazakhstan's administrative tree (KATO), with validity dates for reforms.
CREATE TABLE areas (
    code TEXT PRIMARY KEY,
    parent_code TEXT REFERENCES areas (code),
    level BIGINT NOT NULL,
    kind TEXT NOT NULL,
    name_kk TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL,
    stat_code TEXT,
    iso_code TEXT,
    map_code TEXT,
    valid_from TEXT,
    valid_to TEXT,
    split_from TEXT,
    code_verified BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX areas_parent ON areas (parent_code);
CREATE INDEX areas_stat_code ON areas (stat_code);

-- Every (ancestor, descendant) pair, including each area with itself at depth 0:
-- "everything inside X" is one indexed lookup at any depth.
CREATE TABLE area_closure (
    ancestor TEXT NOT NULL,
    descendant TEXT NOT NULL,
    depth BIGINT NOT NULL,
    PRIMARY KEY (ancestor, descendant)
);
CREATE INDEX area_closure_descendant ON area_closure (descendant);

CREATE TABLE households (
    id {{ID}},
    area_code TEXT NOT NULL REFERENCES areas (code),
    address TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX households_area ON households (area_code);

CREATE TABLE people (
    id {{ID}},
    iin TEXT UNIQUE,
    family_name TEXT NOT NULL,
    given_name TEXT NOT NULL,
    patronymic TEXT,
    family_name_lat TEXT,
    given_name_lat TEXT,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    area_code TEXT NOT NULL REFERENCES areas (code),
    address TEXT,
    phone TEXT,
    household_id BIGINT REFERENCES households (id),
    merged_into BIGINT REFERENCES people (id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX people_area_birth ON people (area_code, birth_date);
CREATE INDEX people_birth ON people (birth_date);
CREATE INDEX people_household ON people (household_id);

-- Folded name keys (see bala_core::name::fold_key): prefix search in any script.
CREATE TABLE person_name_keys (
    name_key TEXT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES people (id),
    PRIMARY KEY (name_key, person_id)
);
CREATE INDEX person_name_keys_person ON person_name_keys (person_id);

-- related_id is the `kind` (mother, father, guardian, …) of person_id.
CREATE TABLE relationships (
    person_id BIGINT NOT NULL REFERENCES people (id),
    related_id BIGINT NOT NULL REFERENCES people (id),
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (person_id, related_id)
);
CREATE INDEX relationships_related ON relationships (related_id);

-- Earlier versions of each person record, kept on every change and merge.
CREATE TABLE person_versions (
    person_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    data TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (person_id, version)
);

CREATE TABLE person_merges (
    id {{ID}},
    survivor_id BIGINT NOT NULL REFERENCES people (id),
    merged_id BIGINT NOT NULL REFERENCES people (id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    details TEXT NOT NULL
);
