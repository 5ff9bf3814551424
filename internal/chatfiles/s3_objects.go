package chatfiles

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// upload is a multipart upload going on (or left by a crash).
type upload struct {
	key, id string
}

// listKeys returns the keys of every object under prefix.
func (s *S3) listKeys(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list: %w", withoutKey(err))
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// listUploads returns the multipart uploads under prefix.
func (s *S3) listUploads(ctx context.Context, prefix string) ([]upload, error) {
	var uploads []upload
	pages := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list uploads: %w", withoutKey(err))
		}
		for _, u := range page.Uploads {
			uploads = append(uploads, upload{key: aws.ToString(u.Key), id: aws.ToString(u.UploadId)})
		}
	}
	return uploads, nil
}

// maxDeletes is the most keys one DeleteObjects request takes.
const maxDeletes = 1000

// deleteKeys removes objects; those already gone are no error.
func (s *S3) deleteKeys(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		batch := keys[:min(len(keys), maxDeletes)]
		keys = keys[len(batch):]
		objects := make([]types.ObjectIdentifier, len(batch))
		for i, key := range batch {
			objects[i] = types.ObjectIdentifier{Key: aws.String(key)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket,
			Delete: &types.Delete{Objects: objects, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("delete: %w", withoutKey(err))
		}
		if len(out.Errors) > 0 {
			// The keys hold file ids, which must not reach the logs.
			e := out.Errors[0]
			return fmt.Errorf("delete: %d of %d objects refused, the first with %s: %s", len(out.Errors), len(batch),
				aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}

// abortUploads ends multipart uploads, dropping their parts.
func (s *S3) abortUploads(ctx context.Context, uploads []upload) error {
	var errs []error
	for _, u := range uploads {
		_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: aws.String(u.key),
			UploadId: aws.String(u.id)})
		if err != nil && httpStatus(err) != http.StatusNotFound {
			errs = append(errs, fmt.Errorf("abort upload: %w", withoutKey(err)))
		}
	}
	return errors.Join(errs...)
}

// withoutKey drops the URL from an error of a request that never got an
// answer: it holds the object's key, whose file id is a capability that
// must not reach logs.
func withoutKey(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return fmt.Errorf("%s request: %w", urlErr.Op, urlErr.Err)
	}
	return err
}
