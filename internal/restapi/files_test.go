package restapi

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/visio-meet/visio/internal/chatfiles"
)

// form builds a multipart body with the given parts (field name, file
// name, content).
func form(t testing.TB, parts ...[3]string) (body []byte, contentType string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		var part io.Writer
		var err error
		if p[1] == "" {
			part, err = w.CreateFormField(p[0])
		} else {
			part, err = w.CreateFormFile(p[0], p[1])
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = part.Write([]byte(p[2]))
	}
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

func upload(body []byte, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/rooms/abc-defg-hij/files", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return r
}

func TestTheFilePartIsFoundAndSniffed(t *testing.T) {
	body, ct := form(t, [3]string{"note", "", "ignored"}, [3]string{"file", "../../plan.html", "<!DOCTYPE html><script>alert(1)</script>"})
	name, typ, content, ae := readUpload(upload(body, ct))
	if ae != nil {
		t.Fatal(ae)
	}
	data, _ := io.ReadAll(content)
	if name != "plan.html" || typ != "application/octet-stream" || !strings.HasPrefix(string(data), "<!DOCTYPE html>") {
		t.Fatalf("read %q, %q, %q", name, typ, data)
	}
	body, ct = form(t, [3]string{"file", "notes.txt", "Ordre du jour\n1. budget"})
	if _, typ, _, _ := readUpload(upload(body, ct)); typ != "text/plain; charset=utf-8" {
		t.Fatalf("plain text served as %q", typ)
	}
	body, ct = form(t, [3]string{"file", "scan.pdf", "%PDF-1.7\n..."})
	if _, typ, _, _ := readUpload(upload(body, ct)); typ != "application/pdf" {
		t.Fatalf("a PDF served as %q", typ)
	}
}

func TestUploadsWithoutAFilePartAreRefused(t *testing.T) {
	body, ct := form(t, [3]string{"other", "a.txt", "x"})
	for _, r := range []*http.Request{upload(body, ct), upload([]byte("x"), "application/json"), upload([]byte("--x\r\n"), "multipart/form-data; boundary=x")} {
		if _, _, _, ae := readUpload(r); ae == nil || ae.status != http.StatusBadRequest || !strings.Contains(ae.message, "file") {
			t.Errorf("%s: %+v", r.Header.Get("Content-Type"), ae)
		}
	}
}

func TestServedTypesCannotRunScript(t *testing.T) {
	for sniffed, want := range map[string]string{
		"text/html; charset=utf-8":  "application/octet-stream",
		"text/xml; charset=utf-8":   "application/octet-stream",
		"image/svg+xml":             "application/octet-stream",
		"application/octet-stream":  "application/octet-stream",
		"image/png":                 "image/png",
		"text/plain; charset=utf-8": "text/plain; charset=utf-8",
		"text/plain; charset=evil":  "text/plain",
		"application/pdf":           "application/pdf",
		"nonsense;;":                "application/octet-stream",
	} {
		if got := servedType(sniffed); got != want {
			t.Errorf("servedType(%q) = %q, want %q", sniffed, got, want)
		}
	}
}

// FuzzReadUpload feeds multipart bodies to the upload parser: whatever a
// client sends gets a clear 4xx error, or a cleaned name, a type that
// cannot run script, and content that reads to its end.
func FuzzReadUpload(f *testing.F) {
	good, ct := form(f, [3]string{"file", "plan.pdf", "%PDF-1.4 hello"})
	boundary := strings.TrimPrefix(ct, "multipart/form-data; boundary=")
	f.Add(good, boundary)
	two, ct2 := form(f, [3]string{"a", "", "1"}, [3]string{"file", `C:\x\é.png`, "\x89PNG\r\n\x1a\n...."})
	f.Add(two, strings.TrimPrefix(ct2, "multipart/form-data; boundary="))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\x00..\"\r\n\r\n<html>\r\n--b--\r\n"), "b")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno end"), "b")
	f.Add([]byte(""), "")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		r := upload(body, "multipart/form-data; boundary="+boundary)
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 1<<16)
		name, typ, content, ae := readUpload(r)
		if ae != nil {
			if ae.status < 400 || ae.status >= 500 || ae.message == "" {
				t.Fatalf("error %+v", ae)
			}
			return
		}
		if name != chatfiles.CleanName(name) || strings.ContainsFunc(name, unicode.IsControl) || strings.ContainsAny(name, `/\`) {
			t.Fatalf("name %q is not clean", name)
		}
		if servedType(typ) != typ || strings.Contains(typ, "html") || strings.Contains(typ, "svg") {
			t.Fatalf("type %q", typ)
		}
		_, _ = io.Copy(io.Discard, content)
	})
}
