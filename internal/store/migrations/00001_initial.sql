-- One schema for SQLite and PostgreSQL: only types, constraints and syntax
-- that both understand alike. Times are UTC, written by the application.

-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    email         TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL DEFAULT '',
    given_name    TEXT NOT NULL DEFAULT '',
    usual_name    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP NOT NULL,
    UNIQUE (issuer, subject)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    id_token   TEXT NOT NULL DEFAULT '',
    acr        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE rooms (
    id                 TEXT PRIMARY KEY,
    code               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL DEFAULT '',
    access             TEXT NOT NULL CHECK (access IN ('public', 'trusted', 'restricted')),
    max_participants   BIGINT NOT NULL DEFAULT 0 CHECK (max_participants >= 0),
    publish_microphone BOOLEAN NOT NULL DEFAULT TRUE,
    publish_camera     BOOLEAN NOT NULL DEFAULT TRUE,
    publish_screen     BOOLEAN NOT NULL DEFAULT TRUE,
    -- A room outlives the account that created it: its other owners keep it.
    created_by         TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);

CREATE TABLE members (
    room_id  TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role     TEXT NOT NULL CHECK (role IN ('member', 'administrator', 'owner')),
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE bans (
    room_id    TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    ban_key    TEXT NOT NULL CHECK (ban_key LIKE 'user:_%' OR ban_key LIKE 'guest:_%'),
    expires_at TIMESTAMP, -- NULL: forever
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (room_id, ban_key)
);

CREATE TABLE visits (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id    TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    visited_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, room_id)
);
CREATE INDEX visits_room ON visits (room_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    hash         TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL DEFAULT '', -- space-separated, as in OAuth
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP, -- NULL: never
    last_used_at TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE visits;
DROP TABLE bans;
DROP TABLE members;
DROP TABLE rooms;
DROP TABLE sessions;
DROP TABLE users;
