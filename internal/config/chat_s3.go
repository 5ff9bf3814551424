package config

import (
	"fmt"
	"strings"
)

// checkChatS3 checks that the chat.s3_* settings make one object storage.
func checkChatS3(c *Config) error {
	switch s3 := c.Chat; {
	case s3.S3Bucket == "" && (s3.S3Endpoint != "" || s3.S3AccessKey != "" || s3.S3SecretKey != ""):
		return fmt.Errorf("config: chat.s3_endpoint, chat.s3_access_key or chat.s3_secret_key is set, but not chat.s3_bucket: " +
			"set chat.s3_bucket to keep the chat's files in that object storage, or remove the others to keep them in chat.files_dir")
	case s3.S3Bucket == "":
		return nil
	case (s3.S3AccessKey == "") != (s3.S3SecretKey == ""):
		return fmt.Errorf("config: chat.s3_access_key and chat.s3_secret_key go together: set both, " +
			"or neither to use the credentials of the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, an instance role)")
	case s3.S3Region == "":
		return fmt.Errorf("config: chat.s3_bucket needs chat.s3_region, the bucket's region (us-east-1 suits most S3-compatible services)")
	}
	return nil
}

// checkBucket accepts an empty value or a bucket name: no slash or space,
// as S3 and the services like it all refuse those.
func checkBucket(v string) error {
	if len(v) > 255 || strings.ContainsFunc(v, func(r rune) bool { return r == '/' || r <= ' ' || r > '~' }) {
		return fmt.Errorf("%q is not a bucket name (such as visio-files)", v)
	}
	return nil
}

// checkS3Prefix accepts key prefixes such as visio/chat/: letters, digits
// and -_./, without a leading slash or an empty or dot-dot segment.
func checkS3Prefix(v string) error {
	bad := strings.HasPrefix(v, "/") || strings.Contains(v, "//") || v == ".." || strings.HasPrefix(v, "../") || strings.Contains(v, "/../") ||
		strings.HasSuffix(v, "/..") || strings.ContainsFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r))
	})
	if bad {
		return fmt.Errorf("%q is not a key prefix such as visio/chat-files/ (letters, digits, -_./, no leading slash)", v)
	}
	return nil
}
