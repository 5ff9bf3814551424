package server

import (
	"context"
	"log/slog"

	"github.com/visio-meet/visio/internal/chatfiles"
	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/transcript"
)

// sweepLiveMeetings removes what the meetings of a node that stopped
// without ending them (a crash) left in the store: their records and chats,
// their files, and their running transcripts, which end where their last
// words were, as do the running transcripts no record names. Only a node
// that hosts every room may call it at its start: in a cluster, the records
// may be other nodes' live meetings.
func sweepLiveMeetings(ctx context.Context, st *store.Store, files chatfiles.Store, log *slog.Logger) {
	leftovers, err := st.LiveMeetings(ctx)
	if err != nil {
		log.Warn("the meetings a previous run left unfinished are still recorded: they go when their rooms are used again", "err", err)
		return
	}
	for _, m := range leftovers {
		if files != nil {
			if err := files.DeleteMeeting(ctx, m.Key); err != nil {
				log.Warn("the files of a meeting a previous run left unfinished are left", "room", m.Code, "err", err)
				continue // its record names them for the next sweep
			}
		}
		if err := st.DropLiveMeeting(ctx, m.Key); err != nil {
			log.Warn("a meeting a previous run left unfinished is still recorded", "room", m.Code, "err", err)
			continue
		}
		log.Info("a meeting a previous run left unfinished was removed", "room", m.Code, "transcript_ended", m.Speech.Transcript != "")
	}
	if n, err := st.EndUnclaimedTranscripts(ctx); err != nil {
		log.Warn("transcripts a previous run left running still show as running", "err", err)
	} else if n > 0 {
		log.Info("transcripts a previous run left running were ended at their last words", "transcripts", n)
	}
}

// Resume implements meeting.Transcripts.
func (k *transcriptKeeper) Resume(ctx context.Context, id string) (meeting.Transcript, error) {
	rec, err := transcript.Resume(ctx, k.store, store.TranscriptID(id), transcript.WithLogger(k.log))
	if err != nil {
		return nil, err
	}
	return keptTranscript{rec, k}, nil
}
