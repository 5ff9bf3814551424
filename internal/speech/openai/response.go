package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/visio-meet/visio/internal/speech"
)

// maxSeconds bounds the times read from an answer; anything later is not a
// time in an utterance.
const maxSeconds = 1e6

// parseResponse reads the answer of a transcription server. Servers differ:
// OpenAI's json and verbose_json, whisper.cpp's, faster-whisper's and
// WhisperX's segments (times as numbers or strings, extra fields), language
// names or codes, or plain text when response_format is ignored.
func parseResponse(contentType string, body []byte) (speech.Result, error) {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(body)
	isJSON := mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		res, err := parseJSON(trimmed)
		if err == nil || isJSON {
			return res, err
		}
		// Not JSON after all: a transcript that starts with a brace.
	}
	var text string
	if isJSON && json.Unmarshal(trimmed, &text) == nil {
		return speech.Result{Text: cleanText(text)}, nil // a bare JSON string
	}
	if mediaType == "text/html" || bytes.HasPrefix(trimmed, []byte("<!DOCTYPE")) || bytes.HasPrefix(trimmed, []byte("<html")) {
		return speech.Result{}, errors.New("answered with a web page, not a transcription; check that speech.openai.url points to a transcription server")
	}
	return speech.Result{Text: cleanText(string(trimmed))}, nil
}

func parseJSON(body []byte) (speech.Result, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return speech.Result{}, fmt.Errorf("answer is not valid JSON: %w", err)
	}
	if raw, ok := fields["error"]; ok && string(raw) != "null" {
		if msg := errorMessage(body); msg != "" {
			return speech.Result{}, fmt.Errorf("server reported an error: %s", msg)
		}
		return speech.Result{}, errors.New("server reported an error without a message")
	}
	var res speech.Result
	if lang, ok := jsonString(fields["language"]); ok {
		res.Language = normaliseLanguage(lang)
	}
	var texts []string
	rawSegments, hasSegments := fields["segments"]
	var segments []json.RawMessage
	_ = json.Unmarshal(rawSegments, &segments)
	for _, raw := range segments {
		text, piece, ok := parseSegment(raw)
		if text == "" {
			continue
		}
		texts = append(texts, text)
		if ok {
			res.Pieces = append(res.Pieces, piece)
		}
	}
	text, hasText := jsonString(fields["text"])
	switch res.Text = cleanText(text); {
	case res.Text == "" && len(texts) > 0:
		res.Text = strings.Join(texts, " ")
	case !hasText && !hasSegments:
		return speech.Result{}, errors.New("answer has neither text nor segments")
	}
	return res, nil
}

// parseSegment returns a segment's text, and its piece when it has usable
// times. Fields other than start, end and text (speaker, words, tokens,
// probabilities) are ignored.
func parseSegment(raw json.RawMessage) (string, speech.Piece, bool) {
	var seg map[string]json.RawMessage
	if json.Unmarshal(raw, &seg) != nil {
		return "", speech.Piece{}, false
	}
	text, _ := jsonString(seg["text"])
	text = cleanText(text)
	start, okStart := jsonTime(seg["start"])
	end, okEnd := jsonTime(seg["end"])
	if !okStart || !okEnd {
		return text, speech.Piece{}, false
	}
	return text, speech.Piece{Start: start, End: max(end, start), Text: text}, true
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if raw == nil || string(raw) == "null" || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsonTime reads a time in seconds, as a number (1.5) or a string ("1.5",
// "00:00:01.500", "00:01.5", "00:00:01,500").
func jsonTime(raw json.RawMessage) (time.Duration, bool) {
	var seconds float64
	if raw == nil || json.Unmarshal(raw, &seconds) != nil {
		s, ok := jsonString(raw)
		if !ok {
			return 0, false
		}
		if seconds, ok = parseClock(s); !ok {
			return 0, false
		}
	}
	if math.IsNaN(seconds) || seconds < 0 || seconds > maxSeconds {
		return 0, false
	}
	return time.Duration(math.Round(seconds*1000)) * time.Millisecond, true
}

// parseClock reads "S.s", "M:S.s" or "H:M:S.s", with a point or a comma.
func parseClock(s string) (float64, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", ".")
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, false
	}
	total := 0.0
	for i, p := range parts {
		last := i == len(parts)-1
		if p == "" || strings.ContainsAny(p, "+-eEinfINFxX_") || (!last && strings.Contains(p, ".")) {
			return 0, false
		}
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || (i > 0 && v >= 60) {
			return 0, false
		}
		total = total*60 + v
	}
	return total, true
}

// cleanText trims a transcript and makes it safe to show: valid UTF-8, no
// control characters, runs of spaces collapsed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// errorMessage finds the server's message in an error body: OpenAI's
// {"error":{"message"}}, {"error":"..."}, FastAPI's {"detail"}, or
// {"message"}; or a short plain-text body. It is cut to a sentence's length.
func errorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Detail  json.RawMessage `json:"detail"`
		Message json.RawMessage `json:"message"`
	}
	msg := ""
	if json.Unmarshal(bytes.TrimSpace(body), &v) == nil {
		var nested struct {
			Message string `json:"message"`
		}
		switch {
		case json.Unmarshal(v.Error, &nested) == nil && nested.Message != "":
			msg = nested.Message
		default:
			for _, raw := range []json.RawMessage{v.Error, v.Detail, v.Message} {
				if s, ok := jsonString(raw); ok && s != "" {
					msg = s
					break
				}
			}
		}
	} else if utf8.Valid(body) && !bytes.ContainsRune(body, '<') {
		msg = string(body)
	}
	msg = cleanText(msg)
	if len(msg) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// languageCodes maps the language names Whisper servers return to ISO 639-1
// codes: the languages of Visio's users and the most spoken others.
var languageCodes = map[string]string{
	"english": "en", "french": "fr", "german": "de", "dutch": "nl", "flemish": "nl",
	"spanish": "es", "castilian": "es", "italian": "it", "portuguese": "pt", "catalan": "ca",
	"basque": "eu", "galician": "gl", "breton": "br", "occitan": "oc", "luxembourgish": "lb",
	"russian": "ru", "ukrainian": "uk", "polish": "pl", "czech": "cs", "slovak": "sk",
	"slovenian": "sl", "croatian": "hr", "serbian": "sr", "bulgarian": "bg", "romanian": "ro",
	"moldavian": "ro", "moldovan": "ro", "hungarian": "hu", "greek": "el", "turkish": "tr",
	"swedish": "sv", "norwegian": "no", "danish": "da", "finnish": "fi", "icelandic": "is",
	"estonian": "et", "latvian": "lv", "lithuanian": "lt", "irish": "ga", "welsh": "cy",
	"arabic": "ar", "hebrew": "he", "persian": "fa", "hindi": "hi", "urdu": "ur",
	"bengali": "bn", "tamil": "ta", "chinese": "zh", "mandarin": "zh", "cantonese": "yue",
	"japanese": "ja", "korean": "ko", "vietnamese": "vi", "thai": "th", "indonesian": "id",
	"malay": "ms", "swahili": "sw", "afrikaans": "af",
}

// normaliseLanguage turns a language name or tag into a primary language
// code ("French", "fr", "fr-FR" → "fr"); "" when it is neither.
func normaliseLanguage(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if code, ok := languageCodes[s]; ok {
		return code
	}
	return speech.PrimaryLanguage(s)
}
