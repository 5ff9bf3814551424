package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"testing/iotest"
)

// chunk is one RIFF chunk for building test files by hand.
type chunk struct {
	id   string
	data []byte
	size uint32 // written size; 0 means len(data)
}

func riff(chunks ...chunk) []byte {
	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, c := range chunks {
		size := c.size
		if size == 0 {
			size = uint32(len(c.data))
		}
		body.WriteString(c.id)
		_ = binary.Write(&body, binary.LittleEndian, size)
		body.Write(c.data)
		if len(c.data)%2 == 1 {
			body.WriteByte(0)
		}
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

func fmtChunk(tag uint16, channels, rate, bits int) chunk {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], tag)
	binary.LittleEndian.PutUint16(b[2:], uint16(channels))
	binary.LittleEndian.PutUint32(b[4:], uint32(rate))
	binary.LittleEndian.PutUint32(b[8:], uint32(rate*channels*bits/8))
	binary.LittleEndian.PutUint16(b[12:], uint16(channels*bits/8))
	binary.LittleEndian.PutUint16(b[14:], uint16(bits))
	return chunk{id: "fmt ", data: b}
}

func extensibleChunk(subformat uint16, channels, rate, bits int) chunk {
	c := fmtChunk(formatExtensible, channels, rate, bits)
	ext := make([]byte, 24)
	binary.LittleEndian.PutUint16(ext[0:], 22)           // cbSize
	binary.LittleEndian.PutUint16(ext[2:], uint16(bits)) // valid bits
	binary.LittleEndian.PutUint32(ext[4:], 3)            // front left and right
	binary.LittleEndian.PutUint16(ext[8:], subformat)
	copy(ext[10:], "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
	c.data = append(c.data, ext...)
	return c
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	samples := []int16{0, 1, -1, math.MaxInt16, math.MinInt16, 12345, -12345}
	var buf bytes.Buffer
	if err := Encode(&buf, samples, 16000); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 44+2*len(samples) {
		t.Errorf("file is %d bytes, want %d", buf.Len(), 44+2*len(samples))
	}
	got, rate, channels, err := Decode(&buf, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 16000 || channels != 1 || !slices.Equal(got, samples) {
		t.Errorf("got %v at %d Hz, %d ch; want %v at 16000 Hz mono", got, rate, channels, samples)
	}
}

func TestEncodeRejectsBadRate(t *testing.T) {
	if err := Encode(&bytes.Buffer{}, []int16{1}, 0); err == nil {
		t.Error("Encode with rate 0 succeeded")
	}
}

func TestDecodeFormats(t *testing.T) {
	tests := []struct {
		name     string
		file     []byte
		want     []int16
		channels int
	}{
		{"8-bit unsigned", riff(fmtChunk(formatPCM, 1, 8000, 8), chunk{id: "data", data: []byte{0, 128, 255}}),
			[]int16{-32768, 0, 127 << 8}, 1},
		{"24-bit", riff(fmtChunk(formatPCM, 1, 8000, 24), chunk{id: "data", data: []byte{0xff, 0x34, 0x12, 0x00, 0x00, 0x80}}),
			[]int16{0x1234, math.MinInt16}, 1},
		{"32-bit int", riff(fmtChunk(formatPCM, 1, 8000, 32), chunk{id: "data", data: le32(0x7fffffff, 0x80000000, 0x00010000)}),
			[]int16{math.MaxInt16, math.MinInt16, 1}, 1},
		{"32-bit float, clipped", riff(fmtChunk(formatFloat, 1, 8000, 32), chunk{id: "data", data: le32(
			math.Float32bits(0.5), math.Float32bits(-2), math.Float32bits(float32(math.NaN())))}),
			[]int16{16384, math.MinInt16, 0}, 1},
		{"64-bit float", riff(fmtChunk(formatFloat, 1, 8000, 64), chunk{id: "data", data: le64(
			math.Float64bits(-0.5), math.Float64bits(1))}),
			[]int16{-16384, math.MaxInt16}, 1},
		{"stereo 16-bit", riff(fmtChunk(formatPCM, 2, 8000, 16), chunk{id: "data", data: le16(1, -1, 2, -2)}),
			[]int16{1, -1, 2, -2}, 2},
		{"extensible PCM", riff(extensibleChunk(formatPCM, 2, 8000, 16), chunk{id: "data", data: le16(7, 8)}),
			[]int16{7, 8}, 2},
		{"extensible float", riff(extensibleChunk(formatFloat, 1, 8000, 32), chunk{id: "data", data: le32(math.Float32bits(0.25))}),
			[]int16{8192}, 1},
		{"unknown chunks first, odd size padded", riff(chunk{id: "LIST", data: []byte("abc")}, chunk{id: "junk", data: make([]byte, 10)},
			fmtChunk(formatPCM, 1, 8000, 16), chunk{id: "data", data: le16(5)}),
			[]int16{5}, 1},
		{"data before fmt", riff(chunk{id: "data", data: le16(3, 4)}, fmtChunk(formatPCM, 1, 8000, 16)),
			[]int16{3, 4}, 1},
		{"streamed length", riff(fmtChunk(formatPCM, 1, 8000, 16), chunk{id: "data", data: le16(9, 10, 11), size: 0xFFFFFFFF}),
			[]int16{9, 10, 11}, 1},
		{"data cut short keeps whole frames", riff(fmtChunk(formatPCM, 2, 8000, 16), chunk{id: "data", data: le16(1, 2, 3), size: 400}),
			[]int16{1, 2}, 2},
		{"trailing chunk after data is not needed", append(riff(fmtChunk(formatPCM, 1, 8000, 16), chunk{id: "data", data: le16(6)}), "LIST\xff\xff\xff\xff"...),
			[]int16{6}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rate, channels, err := Decode(bytes.NewReader(tt.file), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if rate != 8000 || channels != tt.channels || !slices.Equal(got, tt.want) {
				t.Errorf("got %v at %d Hz, %d ch; want %v at 8000 Hz, %d ch", got, rate, channels, tt.want, tt.channels)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	pcm := fmtChunk(formatPCM, 1, 8000, 16)
	badAlign := fmtChunk(formatPCM, 2, 8000, 16)
	binary.LittleEndian.PutUint16(badAlign.data[12:], 3)
	tests := []struct {
		name  string
		file  []byte
		limit int64
		want  error
	}{
		{"empty", nil, 1 << 20, ErrNotWAV},
		{"Ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"), 1 << 20, ErrNotWAV},
		{"big-endian RIFX", []byte("RIFX\x10\x00\x00\x00WAVE"), 1 << 20, ErrUnsupported},
		{"ADPCM", riff(fmtChunk(2, 1, 8000, 4), chunk{id: "data", data: []byte{1}}), 1 << 20, ErrUnsupported},
		{"12-bit PCM", riff(fmtChunk(formatPCM, 1, 8000, 12), chunk{id: "data", data: []byte{1}}), 1 << 20, ErrUnsupported},
		{"rate 0", riff(fmtChunk(formatPCM, 1, 0, 16), chunk{id: "data", data: le16(1)}), 1 << 20, ErrUnsupported},
		{"16 channels", riff(fmtChunk(formatPCM, 16, 8000, 16), chunk{id: "data", data: le16(1)}), 1 << 20, ErrUnsupported},
		{"wrong block size", riff(badAlign, chunk{id: "data", data: le16(1, 2)}), 1 << 20, ErrMalformed},
		{"short fmt", riff(chunk{id: "fmt ", data: []byte{1, 0, 1, 0}}, chunk{id: "data", data: le16(1)}), 1 << 20, ErrMalformed},
		{"two fmt", riff(pcm, pcm, chunk{id: "data", data: le16(1)}), 1 << 20, ErrMalformed},
		{"no data", riff(pcm), 1 << 20, ErrMalformed},
		{"no fmt", riff(chunk{id: "data", data: le16(1)}), 1 << 20, ErrMalformed},
		{"chunk past the end", riff(pcm, chunk{id: "LIST", data: []byte{1, 2}, size: 1000}), 1 << 20, ErrMalformed},
		{"data over the limit", riff(pcm, chunk{id: "data", data: make([]byte, 2000)}), 1000, ErrTooLarge},
		{"streamed data over the limit", riff(pcm, chunk{id: "data", data: make([]byte, 2000), size: 0xFFFFFFFF}), 1000, ErrTooLarge},
		{"8-bit samples over the limit once decoded", riff(fmtChunk(formatPCM, 1, 8000, 8), chunk{id: "data", data: make([]byte, 800)}), 1000, ErrTooLarge},
		{"junk chunk over the limit", riff(pcm, chunk{id: "junk", data: make([]byte, 2000)}, chunk{id: "data", data: le16(1)}), 1000, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := Decode(bytes.NewReader(tt.file), tt.limit)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestDecodeAtExactLimit checks that a file of exactly limit bytes is read:
// the limit is inclusive.
func TestDecodeAtExactLimit(t *testing.T) {
	file := riff(fmtChunk(formatPCM, 1, 8000, 16), chunk{id: "data", data: le16(1, 2, 3), size: 0xFFFFFFFF})
	got, _, _, err := Decode(bytes.NewReader(file), int64(len(file)))
	if err != nil || !slices.Equal(got, []int16{1, 2, 3}) {
		t.Errorf("Decode at the exact limit = %v, %v; want [1 2 3]", got, err)
	}
}

// TestDecodeSoxFiles reads what a real tool writes in each encoding: sox
// uses WAVE_FORMAT_EXTENSIBLE for more than 16 bits or 2 channels.
func TestDecodeSoxFiles(t *testing.T) {
	sox := requireTool(t, "sox")
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		rate     int
		channels int
	}{
		{"16-bit mono 16 kHz", []string{"-r", "16000", "-c", "1", "-b", "16"}, 16000, 1},
		{"8-bit stereo 22.05 kHz", []string{"-r", "22050", "-c", "2", "-b", "8", "-e", "unsigned-integer"}, 22050, 2},
		{"24-bit stereo 48 kHz", []string{"-r", "48000", "-c", "2", "-b", "24"}, 48000, 2},
		{"32-bit float 44.1 kHz", []string{"-r", "44100", "-c", "1", "-b", "32", "-e", "floating-point"}, 44100, 1},
		{"32-bit int 4 channels", []string{"-r", "8000", "-c", "4", "-b", "32", "-e", "signed-integer"}, 8000, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".wav")
			args := append([]string{"-n"}, tt.args...)
			args = append(args, path, "synth", "0.5", "sine", "1000", "vol", "0.5")
			if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
				t.Fatalf("sox: %v: %s", err, out)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			samples, rate, channels, err := Decode(bytes.NewReader(data), 1<<24)
			if err != nil {
				t.Fatal(err)
			}
			if rate != tt.rate || channels != tt.channels {
				t.Fatalf("got %d Hz, %d ch; want %d Hz, %d ch", rate, channels, tt.rate, tt.channels)
			}
			if frames := len(samples) / channels; frames != rate/2 {
				t.Errorf("got %d frames, want %d (0.5 s)", frames, rate/2)
			}
			mono := ToSpeech(samples, rate, channels)
			if a := amplitude(mono[800:len(mono)-800], 1000, 16000); math.Abs(a-0.5) > 0.02 {
				t.Errorf("1 kHz amplitude after decoding = %.3f, want 0.5", a)
			}
		})
	}
}

func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("VISIO_REQUIRE_TEST_SERVICES") == "1" {
			t.Fatalf("%s is not installed and VISIO_REQUIRE_TEST_SERVICES=1: apt-get install %s", name, name)
		}
		t.Skipf("%s is not installed (apt-get install %s); skipping", name, name)
	}
	return path
}

func le16(v ...int16) []byte {
	b := make([]byte, 2*len(v))
	for i, s := range v {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

func le32(v ...uint32) []byte {
	b := make([]byte, 4*len(v))
	for i, s := range v {
		binary.LittleEndian.PutUint32(b[4*i:], s)
	}
	return b
}

func le64(v ...uint64) []byte {
	b := make([]byte, 8*len(v))
	for i, s := range v {
		binary.LittleEndian.PutUint64(b[8*i:], s)
	}
	return b
}

// TestDecodePassesOnReadErrors checks that a reader failing in the middle
// of the samples (a request body over its limit, a broken connection) is
// an error, not a recording that ends early.
func TestDecodePassesOnReadErrors(t *testing.T) {
	broken := errors.New("connection reset")
	file := riff(fmtChunk(formatPCM, 1, 8000, 16), chunk{id: "data", data: make([]byte, 1000)})
	for _, cut := range []int{10, 30, 100} {
		r := io.MultiReader(bytes.NewReader(file[:cut]), iotest.ErrReader(broken))
		if _, _, _, err := Decode(r, 1<<20); !errors.Is(err, broken) {
			t.Errorf("reader failing at byte %d: err = %v, want the reader's error", cut, err)
		}
	}
}
