CREATE TABLE users (
    id {{ID}},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    lang TEXT,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

-- The areas a user may see and change (each with everything inside it).
CREATE TABLE user_scopes (
    user_id BIGINT NOT NULL REFERENCES users (id),
    area_code TEXT NOT NULL,
    PRIMARY KEY (user_id, area_code)
);

-- Sessions are looked up by the SHA-256 of the cookie value, so a copy of the
-- database does not hand out live sessions.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed logins, by username and by address, for throttling.
CREATE TABLE login_failures (
    id {{ID}},
    throttle_key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (throttle_key, at);
