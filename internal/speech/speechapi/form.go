package speechapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"github.com/visio-meet/visio/internal/speech"
)

// request is what a client asked for.
type request struct {
	samples  []int16 // at speech.SampleRate, mono
	language string  // "" lets the engine guess
	format   string  // one of formats
}

// formats are the response formats served, as OpenAI names them.
var formats = []string{"json", "text", "verbose_json", "srt", "vtt"}

// maxFieldBytes bounds a form field other than the file; a prompt is the
// longest one clients send.
const maxFieldBytes = 64 << 10

// readForm reads the multipart form as it streams in, decoding the audio
// as it comes, so that the body is never held whole in memory twice.
// Fields other than file, language and response_format (model, prompt,
// temperature, timestamp_granularities[]) are accepted and not used.
func (h *handler) readForm(r *http.Request) (request, error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return request{}, &apiError{status: http.StatusBadRequest, code: "invalid_content_type",
			message: `send a multipart/form-data body with the audio in a "file" field, e.g. curl -F file=@audio.wav`}
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	req := request{format: "json"}
	haveFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return request{}, h.bodyError(err)
		}
		name := part.FormName()
		switch name {
		case "file":
			if haveFile {
				return request{}, invalidParam("file", "send one file per request")
			}
			if req.samples, err = h.readAudio(part); err != nil {
				return request{}, err
			}
			haveFile = true
		default:
			value, err := h.readField(part, name)
			if err != nil {
				return request{}, err
			}
			switch name {
			case "language":
				req.language = value
			case "response_format":
				req.format = value
			}
		}
		_ = part.Close()
	}
	if !haveFile {
		return request{}, invalidParam("file", `no "file" field: send the audio as a file, e.g. curl -F file=@audio.wav`)
	}
	if len(req.samples) == 0 {
		return request{}, invalidParam("file", "the file holds no audio")
	}
	if req.language, err = checkLanguage(req.language); err != nil {
		return request{}, err
	}
	if req.format = strings.ToLower(strings.TrimSpace(req.format)); req.format == "" {
		req.format = "json"
	}
	if !slices.Contains(formats, req.format) {
		return request{}, invalidParam("response_format", fmt.Sprintf("response_format %q is not served: use one of %s", req.format, strings.Join(formats, ", ")))
	}
	return req, nil
}

func (h *handler) readField(part io.Reader, name string) (string, error) {
	value, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
	if err != nil {
		return "", h.bodyError(err)
	}
	if len(value) > maxFieldBytes {
		return "", invalidParam(name, fmt.Sprintf("the field %q is over %d KiB", name, maxFieldBytes>>10))
	}
	return string(value), nil
}

// checkLanguage turns a language tag into its primary subtag ("fr-FR" →
// "fr"), or refuses what is not one.
func checkLanguage(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	primary := speech.PrimaryLanguage(s)
	if primary == "" {
		return "", invalidParam("language", "language must be an ISO 639-1 code such as fr or en, or empty to let the engine guess")
	}
	return primary, nil
}

// bodyError describes a failure to read the body: over the limit, or not
// a well-formed multipart body.
func (h *handler) bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "request_too_large",
			message: fmt.Sprintf("the request is over this server's limit of %d MiB: send shorter audio, or compress it as Ogg Opus (opusenc --bitrate 24 in.wav out.opus)", h.maxBytes>>20)}
	}
	return &apiError{status: http.StatusBadRequest, code: "invalid_multipart",
		message: "the multipart/form-data body is malformed or cut short; send it again", cause: err}
}

func invalidParam(param, message string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "invalid_value", param: param, message: message}
}
