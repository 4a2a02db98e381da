-- The RDS variant's user store. Email uniqueness is the unique index on email_key.
CREATE TABLE IF NOT EXISTS users (
    id          uuid PRIMARY KEY,
    name        varchar(100) NOT NULL,
    email       varchar(254) NOT NULL,
    email_key   varchar(254) NOT NULL,
    created_at  timestamptz  NOT NULL,
    updated_at  timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (email_key);
CREATE INDEX IF NOT EXISTS users_newest_first ON users (created_at DESC, id DESC);
