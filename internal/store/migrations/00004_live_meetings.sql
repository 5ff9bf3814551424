-- The lasting state of the meetings going on, written through by the node
-- that hosts each one, so that another node can continue a meeting whose
-- node was lost: one row per live meeting, and its chat. Both go when the
-- meeting ends. Room codes are not references: unregistered rooms have
-- meetings too.

-- +goose Up
CREATE TABLE live_meetings (
    meeting_key      TEXT PRIMARY KEY, -- names the meeting's files
    room_code        TEXT NOT NULL UNIQUE,
    started_at       TIMESTAMP NOT NULL, -- captions and transcripts count time from here
    captions         BOOLEAN NOT NULL DEFAULT FALSE,
    -- The running transcript, '' when none; not a reference, so that a
    -- transcript deleted while running leaves the meeting alone.
    transcript_id    TEXT NOT NULL DEFAULT '',
    transcript_since TIMESTAMP, -- when the running transcript began
    last_transcript  TEXT NOT NULL DEFAULT '' -- the latest finished one, offered to hosts
);

CREATE TABLE live_messages (
    meeting_key    TEXT NOT NULL REFERENCES live_meetings (meeting_key) ON DELETE CASCADE,
    id             BIGINT NOT NULL CHECK (id > 0), -- increasing by one per meeting
    sent_at        TIMESTAMP NOT NULL,
    participant_id TEXT NOT NULL,
    sender_name    TEXT NOT NULL DEFAULT '',
    client_id      TEXT NOT NULL DEFAULT '', -- the sender's own id of the message
    text           TEXT NOT NULL DEFAULT '',
    file_id        TEXT NOT NULL DEFAULT '', -- '' when no file is attached
    file_name      TEXT NOT NULL DEFAULT '',
    file_type      TEXT NOT NULL DEFAULT '',
    file_size      BIGINT NOT NULL DEFAULT 0 CHECK (file_size >= 0),
    deleted        BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (meeting_key, id)
);

-- +goose Down
DROP TABLE live_messages;
DROP TABLE live_meetings;
