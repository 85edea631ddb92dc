-- The immunization pillar: calendars as data, what was given (and refused or
-- contraindicated), campaigns, official target populations, and the derived
-- valid-dose facts that coverage is counted from.

-- Calendar versions, as the TOML an administrator edits. Seeded from the
-- bundled files on first use.
CREATE TABLE imm_calendars (
    id TEXT PRIMARY KEY,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    toml TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Supplementary immunization activities (measles, polio campaigns).
CREATE TABLE imm_campaigns (
    id {{ID}},
    name TEXT NOT NULL,
    product TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    min_age_months BIGINT NOT NULL,
    max_age_months BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

-- The areas a campaign covers and the children it targets in each.
CREATE TABLE imm_campaign_areas (
    campaign_id BIGINT NOT NULL REFERENCES imm_campaigns (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    target BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, area_code)
);

-- Every administration as recorded. Never deleted: a wrong entry is marked
-- entered-in-error so the card keeps its history.
CREATE TABLE imm_doses (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    given_on TEXT NOT NULL,
    product TEXT NOT NULL,
    facility TEXT,
    lot TEXT,
    lot_expiry TEXT,
    site TEXT,
    route TEXT,
    flags TEXT NOT NULL DEFAULT '',
    historical BIGINT NOT NULL DEFAULT 0,
    campaign_id BIGINT REFERENCES imm_campaigns (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    source TEXT NOT NULL,
    external_id TEXT UNIQUE,
    status TEXT NOT NULL DEFAULT 'recorded',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX imm_doses_person ON imm_doses (person_id);
CREATE INDEX imm_doses_campaign ON imm_doses (campaign_id, given_on);
-- "Does this district record doses at all?" (welfare's alert facts ask it per child).
CREATE INDEX imm_doses_area ON imm_doses (area_code);

CREATE TABLE imm_contraindications (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    antigen TEXT NOT NULL,
    since TEXT,
    until TEXT,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX imm_contraindications_person ON imm_contraindications (person_id);

CREATE TABLE imm_refusals (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    antigen TEXT NOT NULL,
    refused_on TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX imm_refusals_person ON imm_refusals (person_id);

-- Derived: one row per valid dose of a child (DTP1, MCV1 …), rewritten in the
-- same transaction as any change to that child's doses, so coverage counted
-- from it is never stale. Flags are judged once, here, not in SQL, so both
-- databases count the same way.
CREATE TABLE imm_valid_doses (
    person_id BIGINT NOT NULL REFERENCES people (id),
    label TEXT NOT NULL,
    -- The child's area and birth year when the fact was counted, so the
    -- counters below can be decremented exactly even after the child moves.
    area_code TEXT NOT NULL,
    birth_year BIGINT NOT NULL,
    given_on TEXT NOT NULL,
    given_year BIGINT NOT NULL,
    by_12m BIGINT NOT NULL,
    by_24m BIGINT NOT NULL,
    timely BIGINT NOT NULL,
    PRIMARY KEY (person_id, label)
);
CREATE INDEX imm_valid_doses_label ON imm_valid_doses (label, person_id);

-- Derived counters: valid doses per leaf area, year and label, for birth
-- cohorts (year = birth year) and reporting periods (year = year given).
-- Kept in step with imm_valid_doses in the same transaction, so coverage for
-- a national cohort reads a few thousand rows instead of millions of doses
-- (ADR 0011).
CREATE TABLE imm_counts (
    kind TEXT NOT NULL,
    area_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    label TEXT NOT NULL,
    n BIGINT NOT NULL,
    by_12m BIGINT NOT NULL,
    by_24m BIGINT NOT NULL,
    timely BIGINT NOT NULL,
    PRIMARY KEY (kind, year, area_code, label)
);

-- Official target population estimates (surviving infants, live births) per area and year.
CREATE TABLE imm_target_population (
    area_code TEXT NOT NULL REFERENCES areas (code),
    year BIGINT NOT NULL,
    surviving_infants BIGINT NOT NULL,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (area_code, year)
);

-- Birth-cohort sizes per area are counted from the register on every coverage
-- request; this covering index keeps that to an index-only scan.
CREATE INDEX imm_people_cohort ON people (birth_date, area_code, merged_into);
