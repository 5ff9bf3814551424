package chatfiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Config says where an S3 store keeps its files.
type S3Config struct {
	Endpoint  string // base URL of an S3-compatible service; empty for Amazon S3
	Region    string
	Bucket    string
	AccessKey string // with SecretKey; both empty use the SDK's usual sources (environment, instance role)
	SecretKey string
	Prefix    string // starts every key the store writes, so that a bucket can hold other things
}

// S3 keeps files in an S3 bucket, so that every node of a cluster can serve
// them. A file's content is the object PREFIX/MEETING/ID, with its name in
// the object's metadata; an empty object PREFIX/.ids/ID/MEETING finds the
// meeting of an id on a node that did not store it (a room that moved).
// Keys are made only of a valid meeting key and id, which cannot hold "/"
// or ".", so that no meeting's keys can reach another's or the index.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string
	where  string // the endpoint and bucket, for errors
	log    *slog.Logger

	mu       sync.Mutex
	meetings map[string]string // meeting by file id, for the files known here
}

// indexDir holds the index of ids, under the prefix. A meeting key cannot
// hold a dot, so it is no meeting's.
const indexDir = ".ids/"

// partSize is the size of the parts of a file uploaded in several: S3's
// smallest. Smaller files go in one request. Each upload holds one part in
// memory.
const partSize = 5 << 20

// startTimeout bounds the check that the bucket is there.
const startTimeout = 15 * time.Second

// NewS3 returns a store in the bucket of cfg, after checking that the
// bucket answers with these credentials.
func NewS3(ctx context.Context, cfg S3Config, log *slog.Logger) (*S3, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(cfg.Region),
		// S3-compatible services may reject or mishandle the checksums
		// that the SDK otherwise adds for Amazon S3.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	awsConfig, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("object storage: %w", err)
	}
	if cfg.AccessKey == "" && cfg.SecretKey == "" {
		// Else a missing role reads as an unreachable service.
		retrieveCtx, cancel := context.WithTimeout(ctx, startTimeout)
		_, err := awsConfig.Credentials.Retrieve(retrieveCtx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("no credentials for the object storage: give its access key and secret key, "+
				"or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an instance role: %w", err)
		}
	}
	client := s3.NewFromConfig(awsConfig, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true // most S3-compatible services have no per-bucket host names
		}
	})
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	where := "Amazon S3"
	if u, err := url.Parse(cfg.Endpoint); cfg.Endpoint != "" && err == nil {
		where = u.Redacted() // errors are logged: no password in them
	}
	s := &S3{client: client, bucket: cfg.Bucket, prefix: prefix, where: fmt.Sprintf("bucket %q at %s", cfg.Bucket, where),
		log: log.With("component", "chatfiles"), meetings: map[string]string{}}
	if err := s.check(ctx, cfg.Region); err != nil {
		return nil, err
	}
	return s, nil
}

// check asks for the bucket, and explains the usual reasons it does not
// answer.
func (s *S3) check(ctx context.Context, region string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	switch status := httpStatus(err); {
	case err == nil:
		return nil
	case status == http.StatusForbidden || status == http.StatusUnauthorized:
		return fmt.Errorf("the %s refuses the credentials (HTTP %d): check the access key and the secret key, and that they may use this bucket", s.where, status)
	case status == http.StatusNotFound:
		return fmt.Errorf("there is no %s: create it, or correct the bucket's name", s.where)
	case status == http.StatusMovedPermanently || status == http.StatusBadRequest:
		return fmt.Errorf("the %s answers HTTP %d, as when the bucket is in another region than %q: set the bucket's region", s.where, status, region)
	case status != 0:
		return fmt.Errorf("the %s answers HTTP %d: %w", s.where, status, err)
	}
	return fmt.Errorf("cannot reach the %s (check the endpoint's address, and that the service runs): %w", s.where, err)
}

// httpStatus is the status of the response an S3 call failed with; 0 when
// none came.
func httpStatus(err error) int {
	var response interface{ HTTPStatusCode() int }
	if errors.As(err, &response) {
		return response.HTTPStatusCode()
	}
	return 0
}

func (s *S3) contentKey(meeting, id string) string { return s.prefix + meeting + "/" + id }
func (s *S3) indexKey(meeting, id string) string {
	return s.prefix + indexDir + id + "/" + meeting
}

// Put implements Store. The content goes in one request when it fits in a
// part and in several otherwise, so that about a part at most is held;
// a multipart upload is aborted once the content passes the limit, and an
// object exists only once its upload is complete.
func (s *S3) Put(ctx context.Context, meeting, name, contentType string, r io.Reader, limit int64) (File, error) {
	if !ValidMeeting(meeting) {
		return File{}, fmt.Errorf("store file: %w %q", ErrBadMeeting, meeting)
	}
	f := File{ID: NewID(), Meeting: meeting, Name: name, Type: contentType}
	key := s.contentKey(meeting, f.ID)
	content := io.LimitReader(contextReader{ctx, r}, limit+1)
	// Read as it comes rather than into a whole part, for small files
	// to take little memory.
	first, err := io.ReadAll(io.LimitReader(content, min(limit+1, partSize)))
	switch {
	case err != nil:
	case int64(len(first)) > limit:
		return File{}, ErrTooLarge
	case len(first) < partSize: // the whole file
		f.Size = int64(len(first))
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(first),
			ContentLength: aws.Int64(f.Size), ContentType: &contentType, Metadata: nameMetadata(name)})
	default:
		f.Size, err = s.putParts(ctx, key, name, contentType, first[:partSize], content, limit)
	}
	if err == nil {
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.indexKey(meeting, f.ID)),
			Body: bytes.NewReader(nil), ContentLength: aws.Int64(0)})
		if err != nil {
			if delErr := s.deleteKeys(context.WithoutCancel(ctx), []string{key}); delErr != nil {
				s.log.Warn("a chat file that could not be indexed was not removed: it stays until a sweep", "err", withoutKey(delErr))
			}
		}
	}
	if errors.Is(err, ErrTooLarge) {
		return File{}, err
	} else if err != nil {
		return File{}, fmt.Errorf("store file in the %s: %w", s.where, withoutKey(err))
	}
	s.mu.Lock()
	s.meetings[f.ID] = meeting
	s.mu.Unlock()
	return f, nil
}

// putParts uploads a file of a part or more, whose first part is read, and
// returns its size; the first part's buffer holds the next ones.
func (s *S3) putParts(ctx context.Context, key, name, contentType string, part []byte, rest io.Reader, limit int64) (int64, error) {
	upload, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &key,
		ContentType: &contentType, Metadata: nameMetadata(name)})
	if err != nil {
		return 0, err
	}
	size, err := s.uploadParts(ctx, key, upload.UploadId, part, rest, limit)
	if err != nil {
		// Cancelled or not, the parts sent so far must not stay billed.
		abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, abortErr := s.client.AbortMultipartUpload(abortCtx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key,
			UploadId: upload.UploadId}); abortErr != nil {
			s.log.Warn("an upload of a chat file was not aborted: its parts stay until a sweep", "err", withoutKey(abortErr))
		}
	}
	return size, err
}

func (s *S3) uploadParts(ctx context.Context, key string, uploadID *string, part []byte, rest io.Reader, limit int64) (int64, error) {
	var parts []types.CompletedPart
	size, n := int64(0), len(part)
	for n > 0 {
		size += int64(n)
		if size > limit {
			return size, ErrTooLarge
		}
		number := aws.Int32(int32(len(parts) + 1))
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &s.bucket, Key: &key, UploadId: uploadID,
			PartNumber: number, Body: bytes.NewReader(part[:n]), ContentLength: aws.Int64(int64(n))})
		if err != nil {
			return size, err
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: number})
		var readErr error
		n, readErr = io.ReadFull(rest, part)
		if readErr != nil && !errors.Is(readErr, io.EOF) && !errors.Is(readErr, io.ErrUnexpectedEOF) {
			return size, readErr
		}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return size, err
}

// nameMetadata keeps a file's name, escaped because metadata travels in
// HTTP headers.
func nameMetadata(name string) map[string]string {
	return map[string]string{"name": url.PathEscape(name)}
}

// Open implements Store. It reads the object with one request, and
// another from the new offset after each seek elsewhere, rather than
// through a local copy: downloads start at once and no node's disk fills.
func (s *S3) Open(ctx context.Context, id string) (File, io.ReadSeekCloser, error) {
	meeting, err := s.meetingOf(ctx, id)
	if err != nil {
		return File{}, nil, err
	}
	key := s.contentKey(meeting, id)
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if httpStatus(err) == http.StatusNotFound {
		s.mu.Lock()
		delete(s.meetings, id) // deleted by another node
		s.mu.Unlock()
		return File{}, nil, ErrNotFound
	} else if err != nil {
		return File{}, nil, fmt.Errorf("open file in the %s: %w", s.where, withoutKey(err))
	}
	name, err := url.PathUnescape(out.Metadata["name"])
	if err != nil {
		name = "file"
	}
	f := File{ID: id, Meeting: meeting, Name: name, Type: aws.ToString(out.ContentType), Size: aws.ToInt64(out.ContentLength)}
	return f, &s3Reader{ctx: ctx, store: s, key: key, etag: out.ETag, size: f.Size, body: out.Body}, nil
}

// meetingOf finds the meeting of a file: known here if this node stored
// it, else in the index.
func (s *S3) meetingOf(ctx context.Context, id string) (string, error) {
	if !validID(id) {
		return "", ErrNotFound
	}
	s.mu.Lock()
	meeting, ok := s.meetings[id]
	s.mu.Unlock()
	if ok {
		return meeting, nil
	}
	out, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket,
		Prefix: aws.String(s.prefix + indexDir + id + "/"), MaxKeys: aws.Int32(1)})
	if err != nil {
		return "", fmt.Errorf("find file in the %s: %w", s.where, withoutKey(err))
	}
	for _, o := range out.Contents {
		if meeting := aws.ToString(o.Key)[len(s.prefix+indexDir+id+"/"):]; ValidMeeting(meeting) {
			return meeting, nil
		}
	}
	return "", ErrNotFound
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, id string) error {
	meeting, err := s.meetingOf(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("delete file: %w", err)
	}
	if err := s.deleteKeys(ctx, []string{s.contentKey(meeting, id), s.indexKey(meeting, id)}); err != nil {
		return fmt.Errorf("delete file from the %s: %w", s.where, err)
	}
	s.mu.Lock()
	delete(s.meetings, id)
	s.mu.Unlock()
	return nil
}

// DeleteMeeting implements Store. Like a directory removed, everything
// under the meeting's prefix goes, uploads going on included.
func (s *S3) DeleteMeeting(ctx context.Context, meeting string) error {
	if !ValidMeeting(meeting) {
		return fmt.Errorf("delete files: %w %q", ErrBadMeeting, meeting)
	}
	dir := s.prefix + meeting + "/"
	keys, err := s.listKeys(ctx, dir)
	if err != nil {
		return fmt.Errorf("delete files of meeting %s from the %s: %w", meeting, s.where, err)
	}
	var index []string
	for _, key := range keys {
		if id := key[len(dir):]; validID(id) {
			index = append(index, s.indexKey(meeting, id))
		}
	}
	keys = append(keys, index...)
	uploads, err := s.listUploads(ctx, dir)
	if err == nil {
		err = errors.Join(s.deleteKeys(ctx, keys), s.abortUploads(ctx, uploads))
	}
	if err != nil {
		return fmt.Errorf("delete files of meeting %s from the %s: %w", meeting, s.where, err)
	}
	s.forgetMeetings(func(m string) bool { return m == meeting })
	return nil
}

func (s *S3) forgetMeetings(gone func(meeting string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, m := range s.meetings {
		if gone(m) {
			delete(s.meetings, id)
		}
	}
}
