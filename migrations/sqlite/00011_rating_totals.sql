-- +goose Up
-- Each rating's total (its item mean and sum) in columns of their own, as
-- well as in the scores document: alert evaluation reads the totals of a
-- handful of ratings in every rating write's transaction, and taking them
-- out of the document parsed the JSON of each rating it looked at, several
-- times a write (internal/store/alerts.go). NULL where the total is not
-- scored. Ratings stored before are filled in from their documents.
ALTER TABLE ratings ADD COLUMN total_mean REAL;
ALTER TABLE ratings ADD COLUMN total_sum REAL;
UPDATE ratings SET total_mean = json_extract(scores, '$.total.mean'), total_sum = json_extract(scores, '$.total.sum');

-- +goose Down
ALTER TABLE ratings DROP COLUMN total_sum;
ALTER TABLE ratings DROP COLUMN total_mean;
