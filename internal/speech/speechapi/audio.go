package speechapi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pion/opus"
	"github.com/pion/opus/pkg/oggreader"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/wav"
)

// convertHint tells a client how to make audio this server reads.
const convertHint = "send WAV (PCM or float) or Ogg Opus, e.g. ffmpeg -i input -ar 16000 -ac 1 audio.wav"

// readAudio decodes an uploaded file, WAV or Ogg Opus, to 16 kHz mono.
func (h *handler) readAudio(file io.Reader) ([]int16, error) {
	br := bufio.NewReaderSize(file, 64<<10)
	head, err := br.Peek(12)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, h.bodyError(err)
	}
	switch {
	case len(head) == 0:
		return nil, invalidParam("file", "the file is empty")
	case bytes.HasPrefix(head, []byte("RIFF")), bytes.HasPrefix(head, []byte("RIFX")), bytes.HasPrefix(head, []byte("RF64")):
		return h.readWAV(br)
	case bytes.HasPrefix(head, []byte("OggS")):
		return h.readOpus(br)
	}
	return nil, &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_audio_format", param: "file",
		message: fmt.Sprintf("unsupported audio format%s: %s", formatName(head), convertHint)}
}

// formatName names the common formats that are not read, so that the
// client knows what it sent.
func formatName(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("ID3")), len(head) > 1 && head[0] == 0xFF && head[1]&0xE0 == 0xE0:
		return " (MP3)"
	case bytes.HasPrefix(head, []byte("fLaC")):
		return " (FLAC)"
	case bytes.HasPrefix(head, []byte("\x1a\x45\xdf\xa3")):
		return " (WebM)"
	case len(head) >= 8 && string(head[4:8]) == "ftyp":
		return " (MP4)"
	}
	return ""
}

func (h *handler) readWAV(r io.Reader) ([]int16, error) {
	samples, rate, channels, err := wav.Decode(r, h.maxBytes)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig), errors.Is(err, wav.ErrTooLarge):
		return nil, h.bodyError(&http.MaxBytesError{Limit: h.maxBytes})
	case errors.Is(err, wav.ErrUnsupported), errors.Is(err, wav.ErrNotWAV):
		return nil, &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_audio_format", param: "file",
			message: "this WAV encoding is not read: " + convertHint, cause: err}
	case errors.Is(err, wav.ErrMalformed):
		return nil, &apiError{status: http.StatusBadRequest, code: "invalid_audio", param: "file",
			message: "the WAV file is damaged: " + convertHint, cause: err}
	case err != nil:
		return nil, h.bodyError(err)
	}
	if d := time.Duration(len(samples)/channels) * time.Second / time.Duration(rate); d > h.maxDuration {
		return nil, h.tooLong(d)
	}
	return wav.ToSpeech(samples, rate, channels), nil
}

// readOpus decodes an Ogg Opus file straight to 16 kHz mono, dropping the
// encoder's pre-skip and the padding after the end that the last page's
// granule position marks.
func (h *handler) readOpus(r io.Reader) ([]int16, error) {
	ogg, header, err := oggreader.NewWith(r)
	if err != nil {
		if isReadError(err) {
			return nil, h.bodyError(err)
		}
		return nil, &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_audio_format", param: "file",
			message: "an Ogg file without an Opus stream (Vorbis or FLAC?): " + convertHint, cause: err}
	}
	if m := ogg.ChannelMapping(); header.Channels < 1 || header.Channels > 2 || m.StreamCount > 1 {
		return nil, &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_audio_format", param: "file",
			message: fmt.Sprintf("Opus with %d channels is not read; send mono or stereo", header.Channels)}
	}
	decoder, err := opus.NewDecoderWithOutput(speech.SampleRate, 1)
	if err != nil {
		return nil, fmt.Errorf("speechapi: opus decoder: %w", err)
	}
	const fromOpusRate = 48000 / speech.SampleRate // Ogg Opus counts at 48 kHz
	maxSamples := int(h.maxDuration.Seconds() * speech.SampleRate)
	var (
		samples      []int16
		pcm          = make([]int16, 5760) // 120 ms, the longest packet, at 48 kHz
		decoded, bad int
		endGranule   uint64
		expectTags   = true
	)
	for {
		packet, page, err := ogg.ParseNextPacket()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break // a file cut short still has its first part
		}
		if err != nil {
			if isReadError(err) {
				return nil, h.bodyError(err)
			}
			return nil, &apiError{status: http.StatusBadRequest, code: "invalid_audio", param: "file",
				message: "the Ogg file is damaged: " + convertHint, cause: err}
		}
		if expectTags && bytes.HasPrefix(packet, []byte("OpusTags")) {
			expectTags = false
			continue
		}
		expectTags = false
		if len(packet) == 0 {
			continue
		}
		n, err := decoder.DecodeToInt16(packet, pcm)
		if err != nil {
			bad++ // a damaged packet costs its 20 ms, not the file
			continue
		}
		decoded++
		samples = append(samples, pcm[:n]...)
		if len(samples) > maxSamples {
			return nil, h.tooLong(time.Duration(len(samples)) * time.Second / speech.SampleRate)
		}
		if page.GranulePosition != ^uint64(0) {
			endGranule = page.GranulePosition
		}
	}
	switch {
	case decoded == 0 && bad == 0:
		return nil, &apiError{status: http.StatusBadRequest, code: "invalid_audio", param: "file",
			message: "the Ogg Opus file holds no complete audio page: " + convertHint}
	case bad > decoded:
		return nil, &apiError{status: http.StatusBadRequest, code: "invalid_audio", param: "file",
			message: fmt.Sprintf("%d of the %d packets of the Ogg Opus file cannot be decoded: %s", bad, bad+decoded, convertHint)}
	}
	skip := min(int(header.PreSkip)/fromOpusRate, len(samples))
	if end := int(min(endGranule/fromOpusRate, uint64(len(samples)))); end >= skip && end < len(samples) {
		samples = samples[:end]
	}
	return samples[skip:], nil
}

// isReadError tells an error of the request body (over the limit, the
// connection broke) from one of the data.
func isReadError(err error) bool {
	var tooBig *http.MaxBytesError
	var netErr interface{ Timeout() bool }
	return errors.As(err, &tooBig) || errors.As(err, &netErr)
}

func (h *handler) tooLong(d time.Duration) error {
	return &apiError{status: http.StatusRequestEntityTooLarge, code: "audio_too_long", param: "file",
		message: fmt.Sprintf("the audio lasts over %s, this server's limit is %s: cut it into shorter files",
			d.Round(time.Second), h.maxDuration)}
}
