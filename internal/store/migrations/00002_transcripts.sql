-- Transcripts of meetings, written while the meeting runs: a transcript row
-- when recording starts, one segment row per final utterance as it arrives,
-- so that a crash loses at most the segments still in flight.

-- +goose Up
CREATE TABLE transcripts (
    id            TEXT PRIMARY KEY,
    room_id       TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    language      TEXT NOT NULL DEFAULT '',
    started_by    TEXT NOT NULL DEFAULT '', -- display name of the host who started it
    started_at    TIMESTAMP NOT NULL,
    ended_at      TIMESTAMP, -- NULL: still running, or the server stopped before the end
    -- The last seq given, so that appending takes the next one under the
    -- row's lock on both engines, and lists need not count segments.
    segment_count BIGINT NOT NULL DEFAULT 0 CHECK (segment_count >= 0),
    summary       TEXT, -- JSON; NULL: none yet
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX transcripts_room ON transcripts (room_id, started_at);

CREATE TABLE transcript_segments (
    transcript_id  TEXT NOT NULL REFERENCES transcripts (id) ON DELETE CASCADE,
    seq            BIGINT NOT NULL CHECK (seq > 0), -- order of arrival, from 1
    participant_id TEXT NOT NULL DEFAULT '',
    speaker_name   TEXT NOT NULL DEFAULT '',
    start_ms       BIGINT NOT NULL CHECK (start_ms >= 0), -- since the transcript's started_at
    end_ms         BIGINT NOT NULL CHECK (end_ms >= start_ms),
    text           TEXT NOT NULL,
    language       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (transcript_id, seq)
);

-- +goose Down
DROP TABLE transcript_segments;
DROP TABLE transcripts;
