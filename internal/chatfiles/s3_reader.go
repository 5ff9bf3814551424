package chatfiles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Reader reads an object from where it was last sought to: the body of
// the first request serves reads from the start, and a read after a seek
// elsewhere asks for the rest of the object from there. Seeks alone send
// nothing, so http.ServeContent's seek to the end and back costs no
// request.
type s3Reader struct {
	// ctx is that of the Open call: the reader lives within it (a
	// download), and io.Reader has no other way to carry it.
	ctx   context.Context
	store *S3
	key   string
	etag  *string // the requests after the first one read the same object
	size  int64

	pos     int64         // where the next read starts
	body    io.ReadCloser // nil when closed
	bodyPos int64         // where the next read of body starts
}

func (r *s3Reader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if r.body != nil && r.bodyPos != r.pos {
		_ = r.body.Close()
		r.body = nil
	}
	if r.body == nil {
		s := r.store
		out, err := s.client.GetObject(r.ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &r.key, IfMatch: r.etag,
			Range: aws.String("bytes=" + strconv.FormatInt(r.pos, 10) + "-")})
		if err != nil {
			return 0, fmt.Errorf("read file from the %s: %w", s.where, withoutKey(err))
		}
		r.body, r.bodyPos = out.Body, r.pos
	}
	n, err := r.body.Read(p)
	r.pos += int64(n)
	r.bodyPos += int64(n)
	switch {
	case errors.Is(err, io.EOF) && r.pos < r.size:
		err = io.ErrUnexpectedEOF
	case err != nil && !errors.Is(err, io.EOF):
		err = fmt.Errorf("read file from the %s: %w", r.store.where, withoutKey(err))
	}
	return n, err
}

func (r *s3Reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	r.pos = offset
	return offset, nil
}

func (r *s3Reader) Close() error {
	if r.body == nil {
		return nil
	}
	err := r.body.Close()
	r.body = nil
	return err
}
