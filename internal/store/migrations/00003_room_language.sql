-- The language spoken in a room, for its captions and transcripts; empty
-- means the server's default (speech.language).

-- +goose Up
ALTER TABLE rooms ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE rooms DROP COLUMN language;
