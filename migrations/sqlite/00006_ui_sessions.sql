-- +goose Up
-- Dashboard sign-in sessions. A person pastes an API key (admin or
-- analyze) into the dashboard's sign-in form; the server keeps a session
-- that stands for that key until it expires or is ended, and gives the
-- browser only the session's token in a cookie. Like API keys, only a
-- hash of the token's secret is stored. The session acts with its key's
-- current scopes and study binding, so revoking the key ends it too.
CREATE TABLE ui_sessions (
    id         TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL REFERENCES api_keys (id),
    hash       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    ended_at   DATETIME
);
CREATE INDEX ui_sessions_key ON ui_sessions (key_id);

-- +goose Down
DROP TABLE ui_sessions;
