-- Population denominators of surveillance rates (official estimates per area and year).
CREATE TABLE surveillance_population (
    area_code TEXT NOT NULL REFERENCES areas (code),
    year BIGINT NOT NULL,
    under_15 BIGINT,
    total BIGINT,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (area_code, year)
);

CREATE TABLE afp_cases (
    id {{ID}},
    epid TEXT NOT NULL UNIQUE,
    person_id BIGINT REFERENCES people (id),
    patient_name TEXT,
    sex TEXT,
    birth_date TEXT,
    age_months BIGINT,
    area_code TEXT NOT NULL REFERENCES areas (code),
    onset TEXT NOT NULL,
    onset_year BIGINT NOT NULL,
    notified TEXT NOT NULL,
    investigated TEXT,
    polio_doses BIGINT,
    follow_up_date TEXT,
    follow_up TEXT NOT NULL,
    classification TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX afp_cases_area_year ON afp_cases (area_code, onset_year);

CREATE TABLE afp_specimens (
    case_id BIGINT NOT NULL REFERENCES afp_cases (id),
    seq BIGINT NOT NULL,
    collected TEXT NOT NULL,
    lab_arrival TEXT,
    good_condition BIGINT,
    result TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE measles_cases (
    id {{ID}},
    epid TEXT NOT NULL UNIQUE,
    person_id BIGINT REFERENCES people (id),
    patient_name TEXT,
    sex TEXT,
    birth_date TEXT,
    area_code TEXT NOT NULL REFERENCES areas (code),
    rash_onset TEXT NOT NULL,
    onset_year BIGINT NOT NULL,
    notified TEXT NOT NULL,
    investigated TEXT,
    mcv_doses BIGINT,
    linked_to TEXT,
    classification TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX measles_cases_area_year ON measles_cases (area_code, onset_year);

CREATE TABLE measles_specimens (
    case_id BIGINT NOT NULL REFERENCES measles_cases (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    collected TEXT NOT NULL,
    lab_arrival TEXT,
    result_date TEXT,
    measles_igm TEXT NOT NULL,
    rubella_igm TEXT NOT NULL,
    proficient_lab BIGINT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Sites that report every week, zero reports included.
CREATE TABLE reporting_sites (
    id {{ID}},
    area_code TEXT NOT NULL REFERENCES areas (code),
    name TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE INDEX reporting_sites_area ON reporting_sites (area_code);

CREATE TABLE weekly_reports (
    site_id BIGINT NOT NULL REFERENCES reporting_sites (id),
    iso_year BIGINT NOT NULL,
    iso_week BIGINT NOT NULL,
    received TEXT NOT NULL,
    afp_cases BIGINT NOT NULL,
    measles_cases BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (site_id, iso_year, iso_week)
);
