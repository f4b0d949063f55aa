-- +goose Up
-- A study may require every subscale to be scorable before its total is
-- scored (missing_policy.total_requires_subscales). Existing studies keep
-- the old rule (false). Ratings record the policy their scores were
-- computed with, beside max_missing_fraction.
ALTER TABLE studies ADD COLUMN total_requires_subscales boolean NOT NULL DEFAULT false;
ALTER TABLE ratings ADD COLUMN total_requires_subscales boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE ratings DROP COLUMN total_requires_subscales;
ALTER TABLE studies DROP COLUMN total_requires_subscales;
