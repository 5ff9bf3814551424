//go:build sherpa

package sherpa

import (
	"fmt"

	sherpa "github.com/k2-fsa/sherpa-onnx-go/sherpa_onnx"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/models"
)

// vadWindow is the number of samples Silero VAD takes at 16 kHz.
const vadWindow = 512

// vadBufferSeconds sizes the native detector's sample buffer. It keeps the
// samples of the speech in progress; MaxSpeechDuration bounds that.
const vadBufferSeconds = 30

func vadConfig(model string, dc DetectorConfig) sherpa.VadModelConfig {
	cfg := sherpa.VadModelConfig{SampleRate: speech.SampleRate, NumThreads: 1, Provider: "cpu"}
	cfg.SileroVad = sherpa.SileroVadModelConfig{
		Model:              model,
		Threshold:          dc.Threshold,
		MinSilenceDuration: float32(dc.MinSilence.Seconds()),
		MinSpeechDuration:  float32(dc.MinSpeech.Seconds()),
		WindowSize:         vadWindow,
		MaxSpeechDuration:  20,
	}
	return cfg
}

func offlineConfig(f modelFiles, threads int) sherpa.OfflineRecognizerConfig {
	var c sherpa.OfflineRecognizerConfig
	c.FeatConfig = sherpa.FeatureConfig{SampleRate: speech.SampleRate, FeatureDim: 80}
	c.DecodingMethod = "greedy_search"
	c.ModelConfig.Tokens = f.Tokens
	c.ModelConfig.NumThreads = threads
	c.ModelConfig.Provider = "cpu"
	if f.whisper() {
		// No language: Whisper detects it, unless a stream asks for one.
		c.ModelConfig.Whisper = sherpa.OfflineWhisperModelConfig{Encoder: f.Encoder, Decoder: f.Decoder, Task: "transcribe"}
	} else {
		c.ModelConfig.Transducer = sherpa.OfflineTransducerModelConfig{Encoder: f.Encoder, Decoder: f.Decoder, Joiner: f.Joiner}
	}
	return c
}

func onlineConfig(f modelFiles, threads int) sherpa.OnlineRecognizerConfig {
	var c sherpa.OnlineRecognizerConfig
	c.FeatConfig = sherpa.FeatureConfig{SampleRate: speech.SampleRate, FeatureDim: 80}
	c.DecodingMethod = "greedy_search"
	c.ModelConfig.Transducer = sherpa.OnlineTransducerModelConfig{Encoder: f.Encoder, Decoder: f.Decoder, Joiner: f.Joiner}
	c.ModelConfig.Tokens = f.Tokens
	c.ModelConfig.NumThreads = threads
	c.ModelConfig.Provider = "cpu"
	// The speech pipeline cuts utterances with its own detector.
	c.EnableEndpoint = 0
	return c
}

// Check loads the model of the given kind at path in this process, runs it
// on a little silence and frees it. It is what `visio models check` runs in
// the child process of Probe: a bad model may end this process instead of
// returning an error, which is why the server never calls it itself.
func Check(kind, path string) error {
	k, err := models.ParseKind(kind)
	if err != nil {
		return err
	}
	f, err := findFiles(k, path)
	if err != nil {
		return err
	}
	noCoreDumps()
	silence := make([]float32, speech.SampleRate/2)
	switch k {
	case models.VAD:
		cfg := vadConfig(f.VAD, defaultDetectorConfig(DetectorConfig{}))
		vad := sherpa.NewVoiceActivityDetector(&cfg, vadBufferSeconds)
		if vad == nil {
			return fmt.Errorf("sherpa-onnx could not load the VAD model %s (its message is above)", f.VAD)
		}
		vad.AcceptWaveform(silence)
		sherpa.DeleteVoiceActivityDetector(vad)
	case models.Offline:
		cfg := offlineConfig(f, 1)
		rec := sherpa.NewOfflineRecognizer(&cfg)
		if rec == nil {
			return fmt.Errorf("sherpa-onnx could not load the speech-to-text model in %s (its message is above)", f.Dir)
		}
		st := sherpa.NewOfflineStream(rec)
		st.AcceptWaveform(speech.SampleRate, silence)
		rec.Decode(st)
		sherpa.DeleteOfflineStream(st)
		sherpa.DeleteOfflineRecognizer(rec)
	case models.Streaming:
		cfg := onlineConfig(f, 1)
		rec := sherpa.NewOnlineRecognizer(&cfg)
		if rec == nil {
			return fmt.Errorf("sherpa-onnx could not load the streaming speech-to-text model in %s (its message is above)", f.Dir)
		}
		st := sherpa.NewOnlineStream(rec)
		st.AcceptWaveform(speech.SampleRate, silence)
		st.InputFinished()
		for rec.IsReady(st) {
			rec.Decode(st)
		}
		sherpa.DeleteOnlineStream(st)
		sherpa.DeleteOnlineRecognizer(rec)
	}
	return nil
}
