package chatfiles

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// meetingLeftovers is what the store may have left of one meeting.
type meetingLeftovers struct {
	keys    []string // objects: files and their index entries
	uploads []upload
	foreign bool // something under the meeting's prefix the store did not write
}

// Sweep removes the files of meetings that are not live, such as those a
// crashed server left, with their index entries and unfinished uploads.
// Like Disk.Sweep, it removes only what the store writes: a meeting's
// prefix holding anything else is left alone, whole. In a cluster, every
// node's meetings are under the same prefix: sweep only where live knows
// them all, or where no other node runs.
func (s *S3) Sweep(ctx context.Context, live func(meeting string) bool) (removed int, err error) {
	keys, err := s.listKeys(ctx, s.prefix)
	if err != nil {
		return 0, fmt.Errorf("sweep chat files in the %s: %w", s.where, err)
	}
	uploads, err := s.listUploads(ctx, s.prefix)
	if err != nil {
		return 0, fmt.Errorf("sweep chat files in the %s: %w", s.where, err)
	}
	found := map[string]*meetingLeftovers{}
	of := func(meeting string) *meetingLeftovers {
		if found[meeting] == nil {
			found[meeting] = &meetingLeftovers{}
		}
		return found[meeting]
	}
	for _, key := range keys {
		rel := key[len(s.prefix):]
		if entry, ok := strings.CutPrefix(rel, indexDir); ok {
			if id, meeting, ok := strings.Cut(entry, "/"); ok && validID(id) && ValidMeeting(meeting) {
				of(meeting).keys = append(of(meeting).keys, key)
			}
			continue
		}
		if meeting, name, ok := strings.Cut(rel, "/"); ok && ValidMeeting(meeting) {
			of(meeting).keys = append(of(meeting).keys, key)
			of(meeting).foreign = of(meeting).foreign || !validID(name)
		}
	}
	for _, u := range uploads {
		if meeting, name, ok := strings.Cut(u.key[len(s.prefix):], "/"); ok && ValidMeeting(meeting) {
			of(meeting).uploads = append(of(meeting).uploads, u)
			of(meeting).foreign = of(meeting).foreign || !validID(name)
		}
	}

	var errs []error
	for meeting, left := range found {
		if ctx.Err() != nil {
			return removed, ctx.Err()
		}
		if live(meeting) {
			continue
		}
		if left.foreign {
			s.log.Warn("a meeting's prefix among the chat files holds other things: left alone", "bucket", s.bucket, "prefix", s.prefix+meeting+"/")
			continue
		}
		if err := errors.Join(s.deleteKeys(ctx, left.keys), s.abortUploads(ctx, left.uploads)); err != nil {
			errs = append(errs, fmt.Errorf("sweep chat files of meeting %s in the %s: %w", meeting, s.where, err))
			continue
		}
		s.forgetMeetings(func(m string) bool { return m == meeting })
		removed++
	}
	return removed, errors.Join(errs...)
}
