-- PostgreSQL twin of sqlite/00006_ui_sessions.sql.

-- +goose Up
-- Dashboard sign-in sessions. A person pastes an API key (admin or
-- analyze) into the dashboard's sign-in form; the server keeps a session
-- that stands for that key until it expires or is ended, and gives the
-- browser only the session's token in a cookie. Like API keys, only a
-- hash of the token's secret is stored. The session acts with its key's
-- current scopes and study binding, so revoking the key ends it too.
CREATE TABLE ui_sessions (
    id         text PRIMARY KEY,
    key_id     text NOT NULL REFERENCES api_keys (id),
    hash       text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    ended_at   timestamptz
);
CREATE INDEX ui_sessions_key ON ui_sessions (key_id);

-- +goose Down
DROP TABLE ui_sessions;
