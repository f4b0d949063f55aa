-- +goose Up
-- Each rating's total (its item mean and sum) in columns of their own, as
-- well as in the scores document: alert evaluation reads the totals of a
-- handful of ratings in every rating write's transaction, and taking them
-- out of the document parsed the JSON of each rating it looked at, several
-- times a write (internal/store/alerts.go). NULL where the total is not
-- scored. Ratings stored before are filled in from their documents.
ALTER TABLE ratings ADD COLUMN total_mean double precision;
ALTER TABLE ratings ADD COLUMN total_sum double precision;
UPDATE ratings SET total_mean = CAST(scores::json #>> '{total,mean}' AS double precision),
    total_sum = CAST(scores::json #>> '{total,sum}' AS double precision);

-- +goose Down
ALTER TABLE ratings DROP COLUMN total_sum;
ALTER TABLE ratings DROP COLUMN total_mean;
