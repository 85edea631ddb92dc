-- The child-welfare pillar. Narrative fields (columns ending in _enc) hold
-- ciphertext `enc1:<key id>:<hex>` (see bala_welfare::crypt); everything else
-- is codes, dates and numbers that statistics and deadlines need.

-- Versions of the screening instrument and of the alert rules, as TOML text.
-- A (code, version) is never changed once stored: old screenings keep their meaning.
CREATE TABLE welfare_instruments (
    id {{ID}},
    code TEXT NOT NULL,
    version BIGINT NOT NULL,
    valid_from TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (code, version)
);

CREATE TABLE welfare_rule_sets (
    id {{ID}},
    code TEXT NOT NULL,
    version BIGINT NOT NULL,
    valid_from TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (code, version)
);

-- Cases: a child (person_id) or a family (household_id, person_id = the index child).
CREATE TABLE welfare_cases (
    id {{ID}},
    subject TEXT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES people (id),
    household_id BIGINT REFERENCES households (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    state TEXT NOT NULL,
    risk TEXT NOT NULL,
    concerns TEXT NOT NULL,
    sensitive BIGINT NOT NULL DEFAULT 0,
    assigned_to BIGINT NOT NULL REFERENCES users (id),
    source TEXT NOT NULL,
    source_id BIGINT,
    summary_enc TEXT,
    registered_at TEXT NOT NULL,
    response_escalate_at TEXT,
    response_due_at TEXT,
    first_response_at TEXT,
    closure_reason TEXT,
    closed_at TEXT,
    times_reopened BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE INDEX welfare_cases_assigned ON welfare_cases (assigned_to, state);
CREATE INDEX welfare_cases_area ON welfare_cases (area_code, state);
CREATE INDEX welfare_cases_person ON welfare_cases (person_id);

-- The timeline: every registration, move, note, assessment, review, visit,
-- referral, document, consent, transfer, share and emergency access.
CREATE TABLE welfare_case_events (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES welfare_cases (id),
    at TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    details TEXT NOT NULL,
    note_enc TEXT
);
CREATE INDEX welfare_case_events_case ON welfare_case_events (case_id, at);

-- Users a case is explicitly shared with (never for sensitive cases).
CREATE TABLE welfare_case_shares (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES welfare_cases (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    granted_by BIGINT NOT NULL REFERENCES users (id),
    granted_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX welfare_case_shares_user ON welfare_case_shares (user_id, case_id);

-- Emergency ("break the glass") access: time-limited, with a reason.
CREATE TABLE welfare_break_glass (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES welfare_cases (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    reason_enc TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX welfare_break_glass_user ON welfare_break_glass (user_id, case_id, expires_at);

-- The case plan: goals with the service, responsible agency and due date.
CREATE TABLE welfare_plan_items (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES welfare_cases (id),
    goal_enc TEXT NOT NULL,
    service TEXT NOT NULL,
    agency TEXT NOT NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX welfare_plan_items_case ON welfare_plan_items (case_id);

-- Follow-up visits: planned, then done (with the outcome) or missed.
CREATE TABLE welfare_visits (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES welfare_cases (id),
    due_on TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome_enc TEXT,
    done_at TEXT,
    done_by TEXT
);
CREATE INDEX welfare_visits_case ON welfare_visits (case_id, due_on);

-- Consent to share information with other agencies.
CREATE TABLE welfare_consents (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES welfare_cases (id),
    given_by_enc TEXT NOT NULL,
    relation TEXT NOT NULL,
    agencies TEXT NOT NULL,
    given_on TEXT NOT NULL,
    withdrawn_on TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX welfare_consents_case ON welfare_consents (case_id);

-- Documents attached to a case: the bytes are sealed with key key_id.
CREATE TABLE welfare_documents (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES welfare_cases (id),
    filename_enc TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    data {{BLOB}} NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX welfare_documents_case ON welfare_documents (case_id);

-- Screenings: answers sealed (they hold the worker's notes), the computed result in clear.
CREATE TABLE welfare_screenings (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    instrument_code TEXT NOT NULL,
    instrument_version BIGINT NOT NULL,
    answers_enc TEXT NOT NULL,
    result TEXT NOT NULL,
    level TEXT NOT NULL,
    total BIGINT NOT NULL,
    agency TEXT NOT NULL,
    screened_at TEXT NOT NULL,
    screened_by BIGINT NOT NULL REFERENCES users (id),
    screened_by_name TEXT NOT NULL
);
CREATE INDEX welfare_screenings_person ON welfare_screenings (person_id, screened_at);
CREATE INDEX welfare_screenings_area ON welfare_screenings (area_code, screened_at);

-- Short concern reports from any front-line worker.
CREATE TABLE welfare_concerns (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    concerns TEXT NOT NULL,
    level TEXT NOT NULL,
    agency TEXT NOT NULL,
    narrative_enc TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    reported_by BIGINT NOT NULL REFERENCES users (id),
    reported_by_name TEXT NOT NULL
);
CREATE INDEX welfare_concerns_person ON welfare_concerns (person_id);

-- Referrals between agencies. A screening or concern report refers the child to
-- the district's social services; a case refers to health, education, police, …
CREATE TABLE welfare_referrals (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    case_id BIGINT REFERENCES welfare_cases (id),
    screening_id BIGINT REFERENCES welfare_screenings (id),
    concern_id BIGINT REFERENCES welfare_concerns (id),
    from_agency TEXT NOT NULL,
    to_agency TEXT NOT NULL,
    service TEXT NOT NULL,
    level TEXT NOT NULL,
    state TEXT NOT NULL,
    decline_reason_enc TEXT,
    note_enc TEXT,
    consent_id BIGINT REFERENCES welfare_consents (id),
    sent_at TEXT NOT NULL,
    sent_by TEXT NOT NULL,
    accepted_at TEXT,
    ended_at TEXT,
    -- The wait (response, completion) whose overdue notice was sent, so it is sent once.
    overdue_notified TEXT
);
CREATE INDEX welfare_referrals_case ON welfare_referrals (case_id);
CREATE INDEX welfare_referrals_incoming ON welfare_referrals (to_agency, state, area_code);

-- Alerts fired by the rules over the registers, for the area's social worker.
CREATE TABLE welfare_alerts (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    rule_set TEXT NOT NULL,
    rule_set_version BIGINT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    fired TEXT NOT NULL,
    status TEXT NOT NULL,
    assigned_to BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL,
    acted_at TEXT,
    acted_by TEXT,
    dismiss_reason_enc TEXT,
    case_id BIGINT REFERENCES welfare_cases (id)
);
CREATE INDEX welfare_alerts_assigned ON welfare_alerts (assigned_to, status);
CREATE INDEX welfare_alerts_person ON welfare_alerts (person_id, rule, status);
CREATE INDEX welfare_alerts_area ON welfare_alerts (area_code, status);

-- Notifications: in the app (read_at) and the outbox for e-mail/SMS (sent_at).
CREATE TABLE welfare_notifications (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    case_id BIGINT,
    link TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT,
    sent_at TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX welfare_notifications_user ON welfare_notifications (user_id, read_at);
CREATE INDEX welfare_notifications_outbox ON welfare_notifications (channel, sent_at);
