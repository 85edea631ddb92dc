-- Knowledge management: the indicator registry, values with their versions and
-- approval, code lists for exchange, and dashboards.

CREATE TABLE ind_units (
    code TEXT PRIMARY KEY,
    multiplier DOUBLE PRECISION,
    name_kk TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL
);

-- One row per indicator; texts in the three languages.
CREATE TABLE ind_indicators (
    code TEXT PRIMARY KEY,
    name_kk TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL,
    definition_kk TEXT,
    definition_ru TEXT,
    definition_en TEXT,
    kind TEXT NOT NULL,
    direction TEXT NOT NULL,
    unit TEXT NOT NULL REFERENCES ind_units (code),
    headline TEXT NOT NULL,
    numerator_kk TEXT,
    numerator_ru TEXT,
    numerator_en TEXT,
    denominator_kk TEXT,
    denominator_ru TEXT,
    denominator_en TEXT,
    source_kk TEXT,
    source_ru TEXT,
    source_en TEXT,
    custodian TEXT,
    computed TEXT,
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- The frameworks an indicator is reported under (SDG 3.2.1, MDG 4.1, MDG-plus).
CREATE TABLE ind_frameworks (
    indicator_code TEXT NOT NULL REFERENCES ind_indicators (code),
    framework TEXT NOT NULL,
    goal TEXT NOT NULL,
    target TEXT NOT NULL,
    number TEXT NOT NULL,
    relation TEXT NOT NULL,
    baseline TEXT,
    title_kk TEXT,
    title_ru TEXT,
    title_en TEXT,
    target_text_kk TEXT,
    target_text_ru TEXT,
    target_text_en TEXT,
    citation TEXT NOT NULL,
    PRIMARY KEY (indicator_code, framework, number)
);

CREATE TABLE ind_targets (
    id {{ID}},
    indicator_code TEXT NOT NULL REFERENCES ind_indicators (code),
    framework TEXT NOT NULL,
    dims TEXT NOT NULL,
    kind TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    baseline TEXT,
    target_period TEXT NOT NULL,
    citation TEXT NOT NULL,
    quote TEXT,
    text_kk TEXT,
    text_ru TEXT,
    text_en TEXT
);
CREATE INDEX ind_targets_indicator ON ind_targets (indicator_code);

-- One import, form submission or computation: what was done, by whom, with counts.
CREATE TABLE ind_batches (
    id {{ID}},
    kind TEXT NOT NULL,
    format TEXT,
    file_name TEXT,
    codelist TEXT,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    summary TEXT NOT NULL
);

-- Published values: what every view, chart, export and progress figure reads.
-- Key: indicator × area × period × disaggregation × source (values from different
-- sources sit side by side, as in DevInfo).
CREATE TABLE ind_values (
    id {{ID}},
    indicator_code TEXT NOT NULL REFERENCES ind_indicators (code),
    area_code TEXT NOT NULL REFERENCES areas (code),
    period TEXT NOT NULL,
    period_start TEXT NOT NULL,
    dims TEXT NOT NULL,
    source TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    lower_bound DOUBLE PRECISION,
    upper_bound DOUBLE PRECISION,
    obs_status TEXT,
    footnote TEXT,
    attributes TEXT NOT NULL,
    numerator DOUBLE PRECISION,
    denominator DOUBLE PRECISION,
    version BIGINT NOT NULL,
    batch_id BIGINT REFERENCES ind_batches (id),
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    UNIQUE (indicator_code, area_code, period, dims, source)
);
CREATE INDEX ind_values_area ON ind_values (area_code, indicator_code);
CREATE INDEX ind_values_period ON ind_values (indicator_code, period_start);

-- Values waiting for a regional manager's approval (or rejected), one per key.
-- They reach ind_values, and national views, only when approved.
CREATE TABLE ind_submissions (
    id {{ID}},
    indicator_code TEXT NOT NULL REFERENCES ind_indicators (code),
    area_code TEXT NOT NULL REFERENCES areas (code),
    period TEXT NOT NULL,
    period_start TEXT NOT NULL,
    dims TEXT NOT NULL,
    source TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    lower_bound DOUBLE PRECISION,
    upper_bound DOUBLE PRECISION,
    obs_status TEXT,
    footnote TEXT,
    attributes TEXT NOT NULL,
    numerator DOUBLE PRECISION,
    denominator DOUBLE PRECISION,
    outlier TEXT,
    state TEXT NOT NULL,
    batch_id BIGINT REFERENCES ind_batches (id),
    submitted_by TEXT NOT NULL,
    submitted_by_id BIGINT,
    submitted_at TEXT NOT NULL,
    reviewed_by TEXT,
    reviewed_at TEXT,
    review_note TEXT,
    UNIQUE (indicator_code, area_code, period, dims, source)
);
CREATE INDEX ind_submissions_state ON ind_submissions (state, area_code);

-- Every change to a value, in order: publications, replacements, submissions,
-- approvals, rejections, withdrawals. `data` is the value's fields as JSON.
CREATE TABLE ind_value_history (
    id {{ID}},
    indicator_code TEXT NOT NULL,
    area_code TEXT NOT NULL,
    period TEXT NOT NULL,
    dims TEXT NOT NULL,
    source TEXT NOT NULL,
    version BIGINT,
    event TEXT NOT NULL,
    data TEXT NOT NULL,
    batch_id BIGINT,
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX ind_value_history_key ON ind_value_history (indicator_code, area_code, period);

-- External codes (DHIS2 UIDs, UNICEF codes) and the Bala codes they stand for.
CREATE TABLE ind_code_mappings (
    system TEXT NOT NULL,
    kind TEXT NOT NULL,
    external TEXT NOT NULL,
    bala TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (system, kind, external)
);

-- Dashboards users compose; shared with everyone or with named users.
CREATE TABLE ind_dashboards (
    id {{ID}},
    owner_id BIGINT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    shared_all BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE ind_dashboard_items (
    id {{ID}},
    dashboard_id BIGINT NOT NULL REFERENCES ind_dashboards (id),
    position BIGINT NOT NULL,
    kind TEXT NOT NULL,
    indicator_code TEXT NOT NULL REFERENCES ind_indicators (code),
    area_code TEXT NOT NULL REFERENCES areas (code),
    dims TEXT NOT NULL,
    source TEXT
);
CREATE INDEX ind_dashboard_items_dashboard ON ind_dashboard_items (dashboard_id, position);
CREATE TABLE ind_dashboard_shares (
    dashboard_id BIGINT NOT NULL REFERENCES ind_dashboards (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (dashboard_id, user_id)
);
CREATE INDEX ind_dashboard_shares_user ON ind_dashboard_shares (user_id);
