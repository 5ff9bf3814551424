// Package wav reads and writes RIFF/WAVE audio files, the format speech
// servers exchange, and turns what it reads into the 16 kHz mono samples
// speech engines take.
package wav

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// The errors of Decode, to be told apart with errors.Is.
var (
	// ErrNotWAV is for input that is not a RIFF/WAVE file at all.
	ErrNotWAV = errors.New("not a WAV file")
	// ErrUnsupported is for a WAV file in an encoding this package does
	// not read (compressed, big-endian, too many channels, odd rates).
	ErrUnsupported = errors.New("unsupported WAV encoding")
	// ErrMalformed is for a WAV file whose structure is broken.
	ErrMalformed = errors.New("malformed WAV file")
	// ErrTooLarge is for a WAV file over the caller's limit.
	ErrTooLarge = errors.New("WAV file too large")
)

// The format tags of the fmt chunk that Decode reads.
const (
	formatPCM        = 0x0001
	formatFloat      = 0x0003
	formatExtensible = 0xFFFE
)

const (
	// MaxChannels is the most channels Decode accepts; more is a
	// multichannel production format, not a recording of speech.
	MaxChannels = 8
	// MinRate and MaxRate bound the sample rates Decode accepts.
	MinRate = 4000
	MaxRate = 192000
	// streamedSize is the data size written by programs that do not know
	// the length when they start (ffmpeg writing to a pipe): read to EOF.
	streamedSize = 0xFFFFFFFF
)

// Encode writes samples as a 16-bit PCM mono WAV file at the given rate.
func Encode(w io.Writer, samples []int16, rate int) error {
	if rate < MinRate || rate > MaxRate {
		return fmt.Errorf("wav: sample rate %d Hz is out of range %d–%d", rate, MinRate, MaxRate)
	}
	dataSize := uint64(len(samples)) * 2
	if dataSize > math.MaxUint32-36 {
		return fmt.Errorf("wav: %d samples do not fit in one WAV file: %w", len(samples), ErrTooLarge)
	}
	header := make([]byte, 44)
	copy(header[0:], "RIFF")
	binary.LittleEndian.PutUint32(header[4:], uint32(36+dataSize))
	copy(header[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(header[16:], 16)
	binary.LittleEndian.PutUint16(header[20:], formatPCM)
	binary.LittleEndian.PutUint16(header[22:], 1)
	binary.LittleEndian.PutUint32(header[24:], uint32(rate))
	binary.LittleEndian.PutUint32(header[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(header[32:], 2)
	binary.LittleEndian.PutUint16(header[34:], 16)
	copy(header[36:], "data")
	binary.LittleEndian.PutUint32(header[40:], uint32(dataSize))

	bw := bufio.NewWriter(w)
	if _, err := bw.Write(header); err != nil {
		return fmt.Errorf("wav: write header: %w", err)
	}
	var b [2]byte
	for _, s := range samples {
		binary.LittleEndian.PutUint16(b[:], uint16(s))
		if _, err := bw.Write(b[:]); err != nil {
			return fmt.Errorf("wav: write samples: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("wav: write samples: %w", err)
	}
	return nil
}

// format is what the fmt chunk says about the samples.
type format struct {
	tag        uint16 // formatPCM or formatFloat once resolved
	channels   int
	rate       int
	bits       int
	blockAlign int
}

// Decode reads a WAV file: PCM of 8, 16, 24 or 32 bits, or IEEE float of 32
// or 64 bits, with 1 to MaxChannels channels, its chunks in any order.
// Samples are returned interleaved (channels of one frame together), as
// 16-bit values. limit caps both the bytes read from r and the bytes of the
// returned samples, so that no header can make Decode allocate more.
func Decode(r io.Reader, limit int64) (samples []int16, rate, channels int, err error) {
	d := decoder{r: r, left: limit, limit: limit}
	return d.decode()
}

type decoder struct {
	r     io.Reader
	left  int64 // bytes that may still be read from r
	limit int64
}

func (d *decoder) read(p []byte) error {
	if int64(len(p)) > d.left {
		return fmt.Errorf("wav: more than %d bytes: %w", d.limit, ErrTooLarge)
	}
	n, err := io.ReadFull(d.r, p)
	d.left -= int64(n)
	return err
}

// skip discards n bytes. A chunk longer than the limit is too large only
// if the data is really there; otherwise its header is wrong.
func (d *decoder) skip(n int64) error {
	copied, err := io.CopyN(io.Discard, d.r, min(n, d.left))
	d.left -= copied
	if err != nil {
		return failure(err, fmt.Errorf("wav: chunk runs past the end of the file: %w", ErrMalformed))
	}
	if copied < n {
		return fmt.Errorf("wav: more than %d bytes: %w", d.limit, ErrTooLarge)
	}
	return nil
}

// failure turns an error of reading into one of Decode's: the limit and a
// failing reader are passed on, and the input ending early is early.
func failure(err, early error) error {
	switch {
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrMalformed):
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return early
	}
	return fmt.Errorf("wav: read: %w", err)
}

func (d *decoder) decode() ([]int16, int, int, error) {
	var riff [12]byte
	if err := d.read(riff[:]); err != nil {
		return nil, 0, 0, failure(err, fmt.Errorf("wav: file shorter than a RIFF header: %w", ErrNotWAV))
	}
	switch {
	case string(riff[0:4]) == "RIFX" || string(riff[0:4]) == "RF64":
		return nil, 0, 0, fmt.Errorf("wav: %s files (big-endian or 64-bit) are not read: %w", riff[0:4], ErrUnsupported)
	case string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE":
		return nil, 0, 0, fmt.Errorf("wav: no RIFF/WAVE signature: %w", ErrNotWAV)
	}

	var (
		fmtChunk *format
		raw      []byte // data met before fmt, kept until fmt says how to read it
	)
	for {
		var head [8]byte
		if err := d.read(head[:]); err != nil {
			missing := "data"
			if raw != nil {
				missing = "fmt"
			}
			return nil, 0, 0, failure(err, fmt.Errorf("wav: no %s chunk: %w", missing, ErrMalformed))
		}
		id, size := string(head[0:4]), int64(binary.LittleEndian.Uint32(head[4:8]))
		switch id {
		case "fmt ":
			if fmtChunk != nil {
				return nil, 0, 0, fmt.Errorf("wav: two fmt chunks: %w", ErrMalformed)
			}
			f, err := d.readFormat(size)
			if err != nil {
				return nil, 0, 0, err
			}
			fmtChunk = &f
			if raw != nil {
				samples, err := d.convertAll(raw, f)
				return samples, f.rate, f.channels, err
			}
		case "data":
			if raw != nil {
				return nil, 0, 0, fmt.Errorf("wav: two data chunks before fmt: %w", ErrMalformed)
			}
			if fmtChunk != nil {
				samples, err := d.readSamples(size, *fmtChunk)
				return samples, fmtChunk.rate, fmtChunk.channels, err
			}
			var err error
			if raw, err = d.readRaw(size); err != nil {
				return nil, 0, 0, err
			}
			if size%2 == 1 {
				if err := d.skip(1); err != nil {
					return nil, 0, 0, err
				}
			}
		default:
			// Chunks are padded to an even size.
			if err := d.skip(size + size%2); err != nil {
				return nil, 0, 0, err
			}
		}
	}
}

func (d *decoder) readFormat(size int64) (format, error) {
	if size < 16 || size > 1024 {
		return format{}, fmt.Errorf("wav: fmt chunk of %d bytes: %w", size, ErrMalformed)
	}
	b := make([]byte, size+size%2)
	if err := d.read(b); err != nil {
		return format{}, failure(err, fmt.Errorf("wav: fmt chunk cut short: %w", ErrMalformed))
	}
	f := format{
		tag:        binary.LittleEndian.Uint16(b[0:]),
		channels:   int(binary.LittleEndian.Uint16(b[2:])),
		rate:       int(binary.LittleEndian.Uint32(b[4:])),
		blockAlign: int(binary.LittleEndian.Uint16(b[12:])),
		bits:       int(binary.LittleEndian.Uint16(b[14:])),
	}
	if f.tag == formatExtensible {
		// The extension holds the real format as the first two bytes of
		// a GUID, after cbSize, valid bits and the channel mask.
		if size < 40 {
			return format{}, fmt.Errorf("wav: extensible fmt chunk of %d bytes: %w", size, ErrMalformed)
		}
		f.tag = binary.LittleEndian.Uint16(b[24:])
	}
	switch {
	case f.tag != formatPCM && f.tag != formatFloat:
		return format{}, fmt.Errorf("wav: format tag %#04x (only PCM and float are read; convert to 16-bit PCM): %w", f.tag, ErrUnsupported)
	case f.channels < 1 || f.channels > MaxChannels:
		return format{}, fmt.Errorf("wav: %d channels (1 to %d are read): %w", f.channels, MaxChannels, ErrUnsupported)
	case f.rate < MinRate || f.rate > MaxRate:
		return format{}, fmt.Errorf("wav: sample rate %d Hz (%d to %d are read): %w", f.rate, MinRate, MaxRate, ErrUnsupported)
	case f.tag == formatPCM && f.bits != 8 && f.bits != 16 && f.bits != 24 && f.bits != 32,
		f.tag == formatFloat && f.bits != 32 && f.bits != 64:
		return format{}, fmt.Errorf("wav: %d-bit samples of format %#04x: %w", f.bits, f.tag, ErrUnsupported)
	case f.blockAlign != f.channels*f.bits/8:
		return format{}, fmt.Errorf("wav: block size %d for %d channels of %d bits: %w", f.blockAlign, f.channels, f.bits, ErrMalformed)
	}
	return f, nil
}

// readRaw reads a data chunk whose format is not known yet.
func (d *decoder) readRaw(size int64) ([]byte, error) {
	if size == streamedSize {
		return nil, fmt.Errorf("wav: data of unknown length before the fmt chunk: %w", ErrMalformed)
	}
	if size > d.left {
		return nil, fmt.Errorf("wav: data chunk of %d bytes is over the limit of %d: %w", size, d.limit, ErrTooLarge)
	}
	raw := make([]byte, size)
	if err := d.read(raw); err != nil {
		return nil, failure(err, fmt.Errorf("wav: data chunk cut short: %w", ErrMalformed))
	}
	return raw, nil
}

func (d *decoder) convertAll(raw []byte, f format) ([]int16, error) {
	n := len(raw) / f.blockAlign * f.channels
	if int64(n)*2 > d.limit {
		return nil, fmt.Errorf("wav: %d samples are over the limit of %d bytes: %w", n, d.limit, ErrTooLarge)
	}
	samples := make([]int16, 0, n)
	return appendSamples(samples, raw[:n/f.channels*f.blockAlign], f), nil
}

// readSamples reads the data chunk in blocks. A chunk that ends early, or
// is of unknown length, gives the whole frames that are there: recordings
// cut short are common and still worth hearing. A size past the limit is
// only refused once that much data has really arrived, so that a lying
// header on a short file reads as the short file it is.
func (d *decoder) readSamples(size int64, f format) ([]int16, error) {
	bytesPerSample := f.bits / 8
	toEOF := size == streamedSize || size > d.left
	capacity := size / int64(bytesPerSample)
	if toEOF || capacity*2 > d.limit {
		capacity = 0
	}
	samples := make([]int16, 0, capacity)
	block := make([]byte, 64*1024/f.blockAlign*f.blockAlign)
	for remaining := size; toEOF || remaining > 0; {
		want := min(int64(len(block)), d.left)
		if !toEOF {
			want = min(want, remaining)
		}
		n, err := io.ReadFull(d.r, block[:want])
		d.left -= int64(n)
		remaining -= int64(n)
		whole := n / f.blockAlign * f.blockAlign
		if int64(len(samples)+whole/bytesPerSample)*2 > d.limit {
			return nil, fmt.Errorf("wav: decoded samples are over the limit of %d bytes: %w", d.limit, ErrTooLarge)
		}
		samples = appendSamples(samples, block[:whole], f)
		if err != nil {
			if err = failure(err, nil); err != nil {
				return nil, err
			}
			break // the data ends early: keep what was read
		}
		if toEOF && d.left == 0 {
			_, err := io.ReadFull(d.r, make([]byte, 1))
			if err == nil {
				return nil, fmt.Errorf("wav: more than %d bytes: %w", d.limit, ErrTooLarge)
			}
			if err = failure(err, nil); err != nil {
				return nil, err
			}
			break
		}
	}
	return samples, nil
}

// appendSamples converts whole frames of raw little-endian data to 16-bit
// samples, clipping floats to the 16-bit range.
func appendSamples(dst []int16, raw []byte, f format) []int16 {
	switch {
	case f.tag == formatPCM && f.bits == 8:
		for _, b := range raw {
			dst = append(dst, int16(int(b)-128)<<8)
		}
	case f.tag == formatPCM && f.bits == 16:
		for i := 0; i+1 < len(raw); i += 2 {
			dst = append(dst, int16(binary.LittleEndian.Uint16(raw[i:])))
		}
	case f.tag == formatPCM && f.bits == 24:
		for i := 0; i+2 < len(raw); i += 3 {
			dst = append(dst, int16(uint16(raw[i+1])|uint16(raw[i+2])<<8))
		}
	case f.tag == formatPCM && f.bits == 32:
		for i := 0; i+3 < len(raw); i += 4 {
			dst = append(dst, int16(binary.LittleEndian.Uint32(raw[i:])>>16))
		}
	case f.tag == formatFloat && f.bits == 32:
		for i := 0; i+3 < len(raw); i += 4 {
			dst = append(dst, floatToInt16(float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))))
		}
	case f.tag == formatFloat && f.bits == 64:
		for i := 0; i+7 < len(raw); i += 8 {
			dst = append(dst, floatToInt16(math.Float64frombits(binary.LittleEndian.Uint64(raw[i:]))))
		}
	}
	return dst
}

func floatToInt16(v float64) int16 {
	switch {
	case v != v: // NaN
		return 0
	case v >= 1:
		return math.MaxInt16
	case v <= -1:
		return math.MinInt16
	}
	return int16(math.Round(v * 32767))
}
